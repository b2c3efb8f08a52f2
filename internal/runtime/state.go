//go:build linux

package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// ctState is <runDir>/<CTID>.json, written by the monitor once the init runs
// and removed by it when the init has been reaped.
type ctState struct {
	CTID          int       `json:"ctid"`
	InitPID       int       `json:"init_pid"`
	InitStartTime uint64    `json:"init_start_time"` // field 22 of /proc/<pid>/stat
	MonitorPID    int       `json:"monitor_pid"`
	Started       time.Time `json:"started"`
	Private       string    `json:"private"`
	Root          string    `json:"root"`
}

func (s *ctState) info() Info {
	return Info{CTID: s.CTID, InitPID: s.InitPID, MonitorPID: s.MonitorPID,
		Started: s.Started, Private: s.Private, Root: s.Root}
}

func statePath(runDir string, ctid int) string {
	return filepath.Join(runDir, strconv.Itoa(ctid)+".json")
}

func lockPath(runDir string, ctid int) string {
	return filepath.Join(runDir, strconv.Itoa(ctid)+".lock")
}

func logPath(runDir string, ctid int) string {
	return filepath.Join(runDir, strconv.Itoa(ctid)+".log")
}

// readState returns the state file of ctid; an error wraps fs.ErrNotExist
// when there is none.
func readState(runDir string, ctid int) (*ctState, error) {
	data, err := vz.ReadStateFile(statePath(runDir, ctid)) // a FIFO is refused, never waited on
	if err != nil {
		return nil, err
	}
	var s ctState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", statePath(runDir, ctid), err)
	}
	if s.CTID != ctid || s.InitPID <= 0 {
		return nil, fmt.Errorf("state file %s: bad content", statePath(runDir, ctid))
	}
	return &s, nil
}

// writeState replaces the state file atomically (temp file, fsync, rename).
func writeState(runDir string, s *ctState) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(runDir, fmt.Sprintf(".%d.json-", s.CTID))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), statePath(runDir, s.CTID))
}

// alive reports whether the state's init still runs: same pid, same start
// time (so a reused pid is never mistaken for it), and not a zombie.
func (s *ctState) alive() bool {
	start, zombie, err := procStart(s.InitPID)
	return err == nil && !zombie && start == s.InitStartTime
}

// procStart reads the start time (field 22, clock ticks since boot) and the
// run state of pid from /proc/<pid>/stat.
func procStart(pid int) (start uint64, zombie bool, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false, err
	}
	// comm (field 2) may contain spaces and parentheses: split after the last ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(string(data[i+1:])) // fields[0] is field 3
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return start, fields[0] == "Z" || fields[0] == "X", nil
}

// ctLock is the per-container lock <runDir>/<CTID>.lock. Start takes it and
// hands it to the monitor, which holds it for its whole life: held means a
// monitor is starting or running; free means none is.
type ctLock struct{ f *os.File }

// tryLock takes the lock without waiting; ok is false if someone holds it.
func tryLock(runDir string, ctid int) (l *ctLock, ok bool, err error) {
	f, err := vz.OpenStateFile(lockPath(runDir, ctid), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return &ctLock{f: f}, true, nil
}

func (l *ctLock) release() { l.f.Close() }

// removeStale removes a state file whose init is gone, but only while no
// monitor holds the lock, so a fresh state file is never removed.
func removeStale(runDir string, ctid int) error {
	l, ok, err := tryLock(runDir, ctid)
	if err != nil || !ok {
		return err
	}
	defer l.release()
	if s, err := readState(runDir, ctid); err == nil && s.alive() {
		return nil
	}
	if err := os.Remove(statePath(runDir, ctid)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
