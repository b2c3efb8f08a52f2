package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/redact"
	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// logDir holds one log file per run (under --root).
const logDir = "/var/log/reinstall"

// logTimeFormat names a run's log file by its start in UTC.
const logTimeFormat = "20060102T150405Z"

// runLog is one run's log file, <logDir>/<CTID>-<UTC start>.log (0600 in a
// 0700 directory): every event at every level, the host's log at debug
// level, and the result. Writes that fail are dropped: a full disk must not
// fail a run.
type runLog struct {
	path string
	file *os.File
	mu   sync.Mutex // shared by every logger writing the file
	// events writes events and the result, at trace level and above.
	events hclog.Logger
	// secrets are hidden in everything written to the file.
	secrets *redact.Secrets
}

// openRunLog creates the log file of a run of container ctid started at
// start; a second run in the same second gets a numbered name. The
// directory is opened without following a symlink and must be owned by
// this user (it is made 0700); the file is created in it, never through a
// symlink.
func openRunLog(h *vz.Host, ctid int, start time.Time, secrets *redact.Secrets) (*runLog, error) {
	dir := h.Path(logDir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	dfd, err := openLogDir(dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	base := fmt.Sprintf("%s-%s", h.Label(ctid), start.UTC().Format(logTimeFormat))
	for n := 1; ; n++ {
		name := base + ".log"
		if n > 1 {
			name = fmt.Sprintf("%s-%d.log", base, n)
		}
		fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && n < 100 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("log file %s: %w", filepath.Join(dir, name), err)
		}
		l := &runLog{path: filepath.Join(dir, name), file: os.NewFile(uintptr(fd), filepath.Join(dir, name)), secrets: secrets}
		l.events = hclog.New(l.options("reinstall", hclog.Trace))
		return l, nil
	}
}

// openLogDir opens the log directory, not through a symlink, checks that
// this user owns it and makes it 0700.
func openLogDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return -1, fmt.Errorf("log directory %s is not a directory (a symlink?): remove it", dir)
	}
	if err != nil {
		return -1, fmt.Errorf("log directory: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("log directory %s: %w", dir, err)
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		unix.Close(fd)
		return -1, fmt.Errorf("log directory %s is owned by uid %d, not %d: chown or remove it", dir, st.Uid, euid)
	}
	if st.Mode&0o7777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("log directory %s: %w", dir, err)
		}
	}
	return fd, nil
}

// options are the hclog options of a logger writing this file.
func (l *runLog) options(name string, level hclog.Level) *hclog.LoggerOptions {
	return &hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     termsafe.Writer{W: l.secrets.Writer(l.file)},
		Mutex:      &l.mu,
		TimeFn:     func() time.Time { return time.Now().UTC() },
		TimeFormat: "2006-01-02T15:04:05.000Z",
	}
}

// newLogFileLogger is a logger writing to r's log file alone, at every
// level; lines logged before the file is open (or without one) are dropped.
func newLogFileLogger(r *runReport) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "reinstall",
		Level:      hclog.Trace,
		Output:     logFileWriter{r},
		TimeFn:     func() time.Time { return time.Now().UTC() },
		TimeFormat: "2006-01-02T15:04:05.000Z",
	})
}

// logFileWriter writes to the run's log file once it is open.
type logFileWriter struct{ r *runReport }

func (w logFileWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	l := w.r.log
	w.r.mu.Unlock()
	if l == nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return termsafe.Writer{W: l.secrets.Writer(l.file)}.Write(p)
}

// sink receives the host's log (hclog) at debug level and above.
func (l *runLog) sink() hclog.SinkAdapter {
	return hclog.NewSinkAdapter(l.options("", hclog.Debug))
}

// event writes one event: a stage's log line at its own level under the
// stage's name, anything else as its type and fields.
func (l *runLog) event(ev engine.Event) {
	if ev.Type == engine.EventStageLog {
		l.events.Named(ev.Stage).Log(hclog.LevelFromString(ev.Level), termsafe.Printable(ev.Message))
		return
	}
	level := hclog.Info
	switch {
	case ev.Type == engine.EventStageProgress:
		level = hclog.Debug
	case ev.Error != "" || ev.Type == engine.EventStageFailed || ev.Type == engine.EventError:
		level = hclog.Error
	}
	l.events.Named("event").Log(level, ev.Type, eventFields(ev)...)
}

// eventFields lists an event's fields that are set, as hclog key-value pairs.
func eventFields(ev engine.Event) []any {
	var kv []any
	add := func(k string, v any, set bool) {
		if set {
			kv = append(kv, k, v)
		}
	}
	add("run_id", ev.RunID, ev.RunID != "")
	add("ctid", ev.CTID, ev.CTID != 0)
	add("command", ev.Command, ev.Command != "")
	add("pipeline", ev.Pipeline, ev.Pipeline != "")
	add("stage", ev.Stage, ev.Stage != "")
	add("kind", ev.Kind, ev.Kind != "")
	add("plugin", ev.Plugin, ev.Plugin != "")
	add("index", ev.Index, ev.Index != 0)
	add("count", ev.Count, ev.Count != 0)
	add("message", ev.Message, ev.Message != "")
	add("done", ev.Done, ev.Done != 0)
	add("total", ev.Total, ev.Total != 0)
	add("unit", ev.Unit, ev.Unit != "")
	add("files", ev.Files, ev.Files != 0)
	add("duration", ev.Duration, ev.Duration != 0)
	add("error", ev.Error, ev.Error != "")
	add("state", ev.State, ev.State != "")
	add("exit_code", ev.ExitCode, ev.Type == engine.EventError || ev.Type == engine.EventRunFinished)
	add("reason", ev.Reason, ev.Reason != "")
	add("continued_past", ev.ContinuedPast, len(ev.ContinuedPast) > 0)
	return kv
}

// result writes the run's outcome: its exit code and the operator's last line.
func (l *runLog) result(code int, line string) {
	if line == "" {
		line = "finished"
	}
	level := hclog.Info
	if code != 0 {
		level = hclog.Error
	}
	l.events.Log(level, strings.TrimPrefix(line, "reinstall: "), "exit_code", code)
}

func (l *runLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.file.Close()
}
