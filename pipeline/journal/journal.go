package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/vz"
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

// Phases of a stage's rollback records.
const (
	RollbackBegin = "begin"
	RollbackDone  = "done"
	// RollbackFailed: the stage's Rollback returned an error; a recovery
	// tries it again.
	RollbackFailed = "failed"
	// RollbackDiscarded: the stage's Rollback failed, but its work was in
	// the new private area, which the rollback discarded.
	RollbackDiscarded = "discarded"
	// RollbackSkipped: the operator skipped it (recover --skip-rollback).
	RollbackSkipped = "skipped"
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
	Header *Header           `json:"header,omitempty"`
}

// Format is the version of the journal format this binary writes,
// in the run record's header. Format 1 (journals without the field) recorded
// no pipeline source and no plugin files: recovering one reads the pipeline
// file again, as the binaries that wrote it did. Format 2 records everything
// recovery needs, which then reads nothing else.
const Format = 2

// Header is what recovery needs to know about a run.
type Header struct {
	// Format is the journal format (the constant Format); 0 reads as 1.
	Format       int            `json:"format,omitempty"`
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
	// PipelineSource is the pipeline's text as the run decoded it (the
	// embedded default's too); recovery decodes it, never the file again.
	PipelineSource []byte `json:"pipeline_source,omitempty"`
	// Plugins are the external plugins the run resolved, by name, with the
	// SHA-256 of their files: recovery launches exactly those.
	Plugins map[string]RecordedPlugin `json:"plugins,omitempty"`
	// StopGrace is the runtime's grace period between SIGTERM and SIGKILL.
	StopGrace time.Duration `json:"stop_grace,omitempty"`
}

// RecordedPlugin is an external plugin's file as a run resolved it.
type RecordedPlugin struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Version is the header's journal format, 1 for one written before formats
// were recorded.
func (h *Header) Version() int {
	if h.Format == 0 {
		return 1
	}
	return h.Format
}

// checkFormat refuses a journal written in a newer format than this
// binary knows: recovering it with this one could change what it means.
func checkFormat(first Record) error {
	if first.Header == nil || first.Header.Version() <= Format {
		return nil
	}
	return fmt.Errorf("written in journal format %d, but this reinstall reads formats up to %d: recover with the reinstall binary that wrote it (or a newer one)",
		first.Header.Format, Format)
}

// Journal is an append-only, fsynced record of a run at $LOCKDIR/<CTID>.journal.
type Journal struct {
	path string
	f    *os.File
	seq  int
	// afterAppend, if set, sees every record once it is on disk.
	afterAppend func(Record)
	// broken is the first failed write or fsync.
	broken error
}

// Create creates a new journal; one left from an earlier run is an error.
func Create(path string) (*Journal, error) {
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

// Open reopens an existing journal to append to it (recovery). A
// torn last line is cut off first, so that the next record starts a line.
func Open(path string) (*Journal, []Record, error) {
	records, complete, err := read(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := vz.OpenStateFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	if err := cutTornTail(f, complete); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	j := &Journal{path: path, f: f}
	if len(records) > 0 {
		j.seq = records[len(records)-1].Seq
	}
	return j, records, nil
}

// OnAppend sets f to see every record once it is on disk (the crash-safety
// suite kills the process there).
func (j *Journal) OnAppend(f func(Record)) { j.afterAppend = f }

// Broken is the first write or fsync that failed (every later Append fails
// with it), nil while the journal is whole.
func (j *Journal) Broken() error { return j.broken }

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Append writes one record and fsyncs the file before it returns. Once a
// write or fsync has failed, every later Append fails too: what reached the
// disk is unknown, so nothing more may be announced as recorded.
func (j *Journal) Append(r Record) error {
	if j.broken != nil {
		return j.broken
	}
	j.seq++
	r.Seq = j.seq
	r.Time = time.Now().UTC()
	line, err := json.Marshal(withText(r, escapeText))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		j.broken = fmt.Errorf("journal %s: %w", j.path, err)
		return j.broken
	}
	if err := j.f.Sync(); err != nil {
		j.broken = fmt.Errorf("journal %s: %w", j.path, err)
		return j.broken
	}
	if j.afterAppend != nil {
		j.afterAppend(r)
	}
	return nil
}

// Finish records that the run ended, then closes and removes the journal:
// the run left nothing to recover.
func (j *Journal) Finish() error {
	if err := j.Append(Record{Type: RecordFinished}); err != nil {
		return err
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return syncDir(filepath.Dir(j.path))
}

// Close closes the journal and keeps it on disk (recovery will need it).
func (j *Journal) Close() error { return j.f.Close() }

// Read reads every complete record of a journal. A torn last line
// (no newline: the run died while writing it) is normal and ignored, since
// the step it announced was never started. Any other line that does not
// decode is corruption, refused with its line number: recovery never guesses
// past it.
func Read(path string) ([]Record, error) {
	records, _, err := read(path)
	return records, err
}

// read is Read that also returns the length of the complete
// lines, where an append must start after a torn last line.
func read(path string) ([]Record, int64, error) {
	data, err := vz.ReadStateFile(path) // a FIFO or a symlink is refused, never read
	if err != nil {
		return nil, 0, fmt.Errorf("read journal: %w", err)
	}
	records, complete, err := parse(path, data)
	return records, int64(complete), err
}

// parse decodes the newline-terminated records of data and returns
// them with the length of those lines; what follows the last newline is a
// torn record.
func parse(path string, data []byte) ([]Record, int, error) {
	var records []Record
	complete := bytes.LastIndexByte(data, '\n') + 1
	for n, line := range bytes.SplitAfter(data[:complete], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, 0, &CorruptError{Path: path, Line: n + 1, Err: err}
		}
		if n == 0 {
			if err := checkFormat(r); err != nil {
				return nil, 0, fmt.Errorf("journal %s: %w", path, err)
			}
		}
		records = append(records, withText(r, unescapeText))
	}
	return records, complete, nil
}

// CorruptError is a journal record that does not decode and is not
// the torn last line of a crash.
type CorruptError struct {
	Path string
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s: line %d is corrupt (%v); only a torn last line is what a crash leaves, so nothing is skipped "+
		"or truncated: inspect the file, repair that line, then run the command again", e.Path, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// cutTornTail truncates f to its complete lines and fsyncs it.
func cutTornTail(f *os.File, complete int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == complete {
		return nil
	}
	if err := f.Truncate(complete); err != nil {
		return fmt.Errorf("cut the torn last record: %w", err)
	}
	return f.Sync()
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

// StepEntry is a step record as the plugin that journaled it sees it.
func StepEntry(rec Record) sdk.JournalEntry {
	return sdk.JournalEntry{Stage: rec.Stage, Step: rec.Step, Phase: sdk.Phase(rec.Phase), Data: rec.Data}
}
