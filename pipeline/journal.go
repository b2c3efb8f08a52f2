package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Record types in a journal.
const (
	RecordRun        = "run"         // the run's header: context, cgroup, prior state
	RecordStageBegin = "stage-begin" // a stage starts; holds its decoded config
	RecordStep       = "step"        // a plugin's sub-step (HostServices.Journal)
	RecordStageDone  = "stage-done"  // a stage finished successfully
	RecordRollback   = "rollback"    // a stage's rollback begins (phase begin) or ends (done)
	RecordCommit     = "commit"      // the point of no return has passed
	RecordRolledBack = "rolled-back" // every started stage was rolled back
	RecordFinished   = "finished"    // the run ended; the journal is about to go
)

// Record is one line of the journal.
type Record struct {
	Seq    int               `json:"seq"`
	Time   time.Time         `json:"time"`
	Type   string            `json:"type"`
	Stage  string            `json:"stage,omitempty"`
	Kind   string            `json:"kind,omitempty"`
	Plugin string            `json:"plugin,omitempty"`
	Step   string            `json:"step,omitempty"`
	Phase  string            `json:"phase,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
	Config json.RawMessage   `json:"config,omitempty"`
	Header *RunHeader        `json:"header,omitempty"`
}

// RunHeader is what recovery needs to know about a run.
type RunHeader struct {
	Context      sdk.RunContext `json:"context"`
	Pipeline     string         `json:"pipeline"`
	Cgroup       string         `json:"cgroup,omitempty"`
	WasRunning   bool           `json:"was_running"`
	PrivateIno   uint64         `json:"private_ino"`
	PrivateDev   uint64         `json:"private_dev"`
	ReinstallPID int            `json:"pid"`
	// Runtime is the container runtime the run used (vzctl, prlctl or
	// native); recovery uses the same one.
	Runtime string `json:"runtime,omitempty"`
	// SetOSTemplate (--ostemplate) is written as OSTEMPLATE in the
	// container's config once the point of no return has passed, by the run
	// or by the recovery that finishes it.
	SetOSTemplate string `json:"set_ostemplate,omitempty"`
	// Vars are the pipeline variables' values (RecordedVariables).
	Vars map[string]json.RawMessage `json:"vars,omitempty"`
	// PluginDir is the $REINSTALL_PLUGIN_DIR the run found its external
	// plugins in, so a recovery launches the same ones.
	PluginDir string `json:"plugin_dir,omitempty"`
}

// Journal is an append-only, fsynced record of a run at $LOCKDIR/<CTID>.journal.
type Journal struct {
	path string
	f    *os.File
	seq  int
	// afterAppend, if set, sees every record once it is on disk.
	afterAppend func(Record)
}

// CreateJournal creates a new journal; one left from an earlier run is an error.
func CreateJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("create journal: %w", err)
	}
	return &Journal{path: path, f: f}, nil
}

// OpenJournal reopens an existing journal to append to it (recovery).
func OpenJournal(path string) (*Journal, []Record, error) {
	records, err := ReadJournal(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{path: path, f: f}
	if len(records) > 0 {
		j.seq = records[len(records)-1].Seq
	}
	return j, records, nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Append writes one record and fsyncs the file before it returns.
func (j *Journal) Append(r Record) error {
	j.seq++
	r.Seq = j.seq
	r.Time = time.Now().UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if j.afterAppend != nil {
		j.afterAppend(r)
	}
	return nil
}

// Finish closes and removes the journal: the run left nothing to recover.
func (j *Journal) Finish() error {
	j.f.Close()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return syncDir(filepath.Dir(j.path))
}

// Close closes the journal and keeps it on disk (recovery will need it).
func (j *Journal) Close() error { return j.f.Close() }

// ReadJournal reads every complete record; a torn last line (a crash while
// writing it) is ignored, since its step was never started.
func ReadJournal(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	var records []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break
		}
		records = append(records, r)
	}
	return records, nil
}

func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func stepEntry(rec Record) sdk.JournalEntry {
	return sdk.JournalEntry{Stage: rec.Stage, Step: rec.Step, Phase: rec.Phase, Data: rec.Data}
}
