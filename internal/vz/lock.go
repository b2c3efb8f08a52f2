//go:build linux

package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked matches every *LockedError (errors.Is).
var ErrLocked = errors.New("container is locked")

// LockedError: a live process holds the container lock (exit 9, contract §4).
type LockedError struct {
	CTID   int
	Label  string // an LXC container's name, which messages use; "" = the CTID
	PID    int    // from the lock file; 0 if it held none
	Status string // second line of the lock file, e.g. "reinstalling"
}

func (e *LockedError) Error() string {
	label := e.Label
	if label == "" {
		label = strconv.Itoa(e.CTID)
	}
	s := fmt.Sprintf("container %s is locked", label)
	if e.PID > 0 {
		s += fmt.Sprintf(" by pid %d", e.PID)
	}
	if e.Status != "" {
		s += " (" + e.Status + ")"
	}
	return s
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held $LOCKDIR/<CTID>.lck: the file exists with our pid and we
// flock it through a close-on-exec fd, so children never inherit it.
type Lock struct {
	path string
	f    *os.File
}

// Path is the lock file's host path.
func (l *Lock) Path() string { return l.path }

// lockAttempts bounds the retries after a stale lock was removed or while
// another process is busy taking a stale lock over.
const lockAttempts = 8

// Lock takes $LOCKDIR/<ctid>.lck with content "<pid>\n<status>\n" (contract
// §1). The file is written under a temporary name, flocked, then link(2)ed to
// the final name, so it never appears half-written or unflocked. An existing
// file is held if it is flocked or names a live, non-zombie pid (vzctl's lock
// files carry only the pid); otherwise it is stale: logged via h.Log, removed
// and the lock retried. A held lock is a *LockedError. LockDir is created
// (0755) if missing.
func (h *Host) Lock(ctid int, status string) (*Lock, error) {
	if err := CheckCTID(ctid); err != nil {
		return nil, err
	}
	if strings.ContainsAny(status, "\n\x00") {
		return nil, fmt.Errorf("lock status %q: must be one line", status)
	}
	if err := os.MkdirAll(h.LockDir, 0o755); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	path := h.LockPath(ctid)
	content := fmt.Sprintf("%d\n%s\n", os.Getpid(), status)
	var busy *LockedError
	for attempt := range lockAttempts {
		l, err := createLock(path, content)
		if !errors.Is(err, fs.ErrExist) {
			return l, err
		}
		state, holder, err := h.inspectLock(ctid, path)
		switch {
		case err != nil:
			return nil, err
		case state == lockHeld:
			return nil, holder
		case state == lockBusy:
			busy = holder
			time.Sleep(time.Duration(10<<min(attempt, 3)) * time.Millisecond)
		}
	}
	if busy != nil {
		return nil, busy // flocked all along: held, even if its pid looks dead
	}
	return nil, fmt.Errorf("%s: lock file keeps reappearing; gave up after %d attempts", path, lockAttempts)
}

// Release removes the lock file, if it is still ours, then closes the fd,
// which drops the flock. Releasing twice is a no-op.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	var errs []error
	ours, err := sameFile(f, l.path)
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		errs = append(errs, fmt.Errorf("release lock: %w", err))
	case ours:
		if err := os.Remove(l.path); err != nil {
			errs = append(errs, fmt.Errorf("release lock: %w", err))
		}
	}
	if err := f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("release lock %s: %w", l.path, err))
	}
	return errors.Join(errs...)
}

// createLock writes content to a temp file in the lock's directory, flocks
// it and links it to path. An existing path is an error wrapping fs.ErrExist.
func createLock(path, content string) (*Lock, error) {
	// os.CreateTemp opens with O_CLOEXEC, as every os.OpenFile on Linux.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create lock: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create lock: %w", err)
	}
	if err := unix.Flock(int(tmp.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("%s: flock: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		tmp.Close()
		return nil, err // *LinkError; wraps fs.ErrExist when the lock exists
	}
	return &Lock{path: path, f: tmp}, nil
}

// lockState is what inspectLock found at the lock path.
type lockState int

const (
	lockGone lockState = iota // vanished or stale and removed: try again
	lockHeld                  // a live process holds it
	lockBusy                  // flocked, but its pid is dead: maybe a takeover in progress
)

// inspectLock decides whether the existing lock file at path is held. To
// remove a stale file it holds the file's flock and checks that path still
// names that file, so it never deletes a lock someone else just created.
func (h *Host) inspectLock(ctid int, path string) (lockState, *LockedError, error) {
	f, err := OpenStateFile(path, os.O_RDONLY, 0) // a FIFO there is refused, never waited on
	if errors.Is(err, fs.ErrNotExist) {
		return lockGone, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock file: %w", err)
	}
	defer f.Close()
	return h.judgeLock(ctid, path, f)
}

// judgeLock is inspectLock's decision on f, an open lock file that path may
// no longer name by the time f is flocked.
func (h *Host) judgeLock(ctid int, path string, f *os.File) (lockState, *LockedError, error) {
	flockErr := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if flockErr != nil && !errors.Is(flockErr, unix.EWOULDBLOCK) {
		return 0, nil, fmt.Errorf("%s: flock: %w", path, flockErr)
	}
	pid, status, err := readLockFile(f)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	label, _ := h.LXCName(ctid)
	holder := &LockedError{CTID: ctid, Label: label, PID: pid, Status: status}
	alive, why := pidAlive(pid)
	if flockErr != nil {
		if alive {
			return lockHeld, holder, nil
		}
		return lockBusy, holder, nil
	}
	// We hold the flock; the file is still the lock only if path names it.
	if same, err := sameFile(f, path); err != nil || !same {
		return lockGone, nil, nil
	}
	if alive && pid != os.Getpid() {
		return lockHeld, holder, nil // a vzctl-style lock: pid only, no flock
	}
	if pid == os.Getpid() {
		why = "it names this very process but is not flocked"
	}
	h.logf("removing stale lock file %s (%s)", path, why)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, nil, fmt.Errorf("remove stale lock: %w", err)
	}
	return lockGone, nil, nil
}

// sameFile reports whether path (not followed) is the file open as f.
func sameFile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// LockHeld tells, without taking or removing anything, whether a live
// process holds ctid's lock: the file is flocked, or names a live pid other
// than this process (a vzctl-style lock). A missing lock file is not held.
func (h *Host) LockHeld(ctid int) (bool, error) {
	path := h.LockPath(ctid)
	f, err := OpenStateFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock file: %w", err)
	}
	defer f.Close()
	switch err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); {
	case errors.Is(err, unix.EWOULDBLOCK):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("%s: flock: %w", path, err)
	}
	pid, _, err := readLockFile(f)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	alive, _ := pidAlive(pid)
	return alive && pid != os.Getpid(), nil
}
