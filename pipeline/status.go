package pipeline

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Pending describes an unfinished reinstall found in a container's journal.
type Pending struct {
	CTID    int      `json:"ctid,omitempty"` // absent for an LXC container
	CT      string   `json:"ct,omitempty"`   // an LXC container's name
	RunID   string   `json:"run_id"`
	PID     int      `json:"pid"`
	Alive   bool     `json:"alive"`
	Journal string   `json:"journal"`
	Stages  []string `json:"stages"` // "<name>: begun|done|rolled back"
	// Committed tells whether the point of no return had passed.
	Committed bool `json:"committed"`
	// Runtime is the container runtime the run used, and recover uses.
	Runtime string `json:"runtime,omitempty"`
	// SetOSTemplate is the OSTEMPLATE a roll-forward writes (--ostemplate).
	SetOSTemplate string `json:"set_ostemplate,omitempty"`
	// Recovery says what `reinstall recover` would do.
	Recovery string `json:"recovery"`
}

// Status reads a container's journal; nil means no reinstall is unfinished.
func Status(o Options) (*Pending, error) {
	ctid, _, err := o.Host.Resolve(o.Target)
	if err != nil {
		return nil, refused("%v", err)
	}
	path := o.Host.JournalPath(ctid)
	records, err := ReadJournal(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Pending{CTID: ctid, Journal: path}
	if name, ok := o.Host.LXCName(ctid); ok {
		p.CTID, p.CT = 0, name
	}
	state := map[string]string{}
	var order []string
	for _, rec := range records {
		switch rec.Type {
		case RecordRun:
			p.RunID, p.PID = rec.Header.Context.RunID, rec.Header.ReinstallPID
			p.Runtime, p.SetOSTemplate = rec.Header.Runtime, rec.Header.SetOSTemplate
		case RecordStageBegin:
			if _, ok := state[rec.Stage]; !ok {
				order = append(order, rec.Stage)
			}
			state[rec.Stage] = "begun"
		case RecordStageDone:
			state[rec.Stage] = "done"
		case RecordRollback:
			switch rec.Phase {
			case "done":
				state[rec.Stage] = "rolled back"
			case rollbackFailed:
				state[rec.Stage] = "rollback failed: " + rec.Data["error"]
			case rollbackDiscarded:
				state[rec.Stage] = "rollback failed; discarded with the new private area"
			case rollbackSkipped:
				state[rec.Stage] = "rollback skipped (--skip-rollback)"
			}
		case RecordCommit:
			p.Committed = true
		}
	}
	for _, name := range order {
		p.Stages = append(p.Stages, name+": "+state[name])
	}
	p.Alive = p.PID > 0 && processAlive(p.PID)
	switch {
	case p.Alive:
		p.Recovery = fmt.Sprintf("none yet: the run (pid %d) is still going", p.PID)
	case p.Committed && p.SetOSTemplate != "":
		p.Recovery = fmt.Sprintf("roll forward: finish backup-retention, write OSTEMPLATE=%q into the config and leave the reinstalled container running", p.SetOSTemplate)
	case p.Committed:
		p.Recovery = "roll forward: finish backup-retention and leave the reinstalled container running"
	default:
		p.Recovery = "roll back: restore the old private area and the container's run state"
	}
	return p, nil
}

// processAlive tells whether pid is a live process (not a zombie).
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
