package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/reinstall-dev/reinstall/pipeline/journal"
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
	records, err := journal.Read(path)
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
	run := journal.Replay(records)
	if hdr := run.Header; hdr != nil {
		p.RunID, p.PID = hdr.Context.RunID, hdr.ReinstallPID
		p.Runtime, p.SetOSTemplate = hdr.Runtime, hdr.SetOSTemplate
	}
	p.Committed = run.Committed
	for _, st := range run.Stages {
		state := st.State.String()
		if st.State == journal.Unrolled {
			state += ": " + st.RollbackError
		}
		p.Stages = append(p.Stages, st.Name+": "+state)
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
