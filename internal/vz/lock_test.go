//go:build linux

package vz

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestLockTakesStaleOver(t *testing.T) {
	tests := []struct {
		name    string
		content func(t *testing.T) string
		wantLog string
	}{
		{name: "dead pid", content: func(t *testing.T) string { return fmt.Sprintf("%d\nreinstalling\n", deadPID(t)) }, wantLog: "is not running"},
		{name: "zombie pid", content: func(t *testing.T) string { return fmt.Sprintf("%d\n", zombiePID(t)) }, wantLog: "is a zombie"},
		{name: "garbage", content: func(*testing.T) string { return "not a pid\n" }, wantLog: "no valid pid"},
		{name: "empty", content: func(*testing.T) string { return "" }, wantLog: "no valid pid"},
		{name: "own pid, not flocked", content: func(*testing.T) string { return fmt.Sprintf("%d\n", os.Getpid()) }, wantLog: "this very process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, "")
			var logs []string
			h.Log = func(msg string) { logs = append(logs, msg) }
			writeLockFile(t, h, 101, tt.content(t))
			l, err := h.Lock(101, "reinstalling")
			if err != nil {
				t.Fatalf("Lock over a stale file: %v", err)
			}
			defer l.Release()
			if got, want := readLockContent(t, h, 101), fmt.Sprintf("%d\nreinstalling\n", os.Getpid()); got != want {
				t.Errorf("lock file = %q, want %q", got, want)
			}
			if len(logs) != 1 || !strings.Contains(logs[0], "stale") || !strings.Contains(logs[0], h.LockPath(101)) || !strings.Contains(logs[0], tt.wantLog) {
				t.Errorf("log = %q, want one line naming the stale %s and %q", logs, h.LockPath(101), tt.wantLog)
			}
		})
	}
}

func TestLockHeld(t *testing.T) {
	tests := []struct {
		name   string
		holder func(t *testing.T, h *Host) (pid int, status string) // sets up a held lock
	}{
		{name: "live pid without flock (vzctl)", holder: func(t *testing.T, h *Host) (int, string) {
			pid := sleeperPID(t)
			writeLockFile(t, h, 101, fmt.Sprintf("%d\nrunning\n", pid))
			return pid, "running"
		}},
		{name: "parent pid without flock", holder: func(t *testing.T, h *Host) (int, string) {
			writeLockFile(t, h, 101, fmt.Sprintf("%d\n", os.Getppid()))
			return os.Getppid(), ""
		}},
		{name: "flocked with a live pid", holder: func(t *testing.T, h *Host) (int, string) {
			pid := sleeperPID(t)
			flockFile(t, writeLockFile(t, h, 101, fmt.Sprintf("%d\nstarting\n", pid)))
			return pid, "starting"
		}},
		{name: "flocked with a dead pid", holder: func(t *testing.T, h *Host) (int, string) {
			pid := deadPID(t)
			flockFile(t, writeLockFile(t, h, 101, fmt.Sprintf("%d\nodd\n", pid)))
			return pid, "odd"
		}},
		{name: "held by this process", holder: func(t *testing.T, h *Host) (int, string) {
			l, err := h.Lock(101, "reinstalling")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Release() })
			return os.Getpid(), "reinstalling"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, "")
			h.Log = func(msg string) { t.Errorf("unexpected log: %s", msg) }
			pid, status := tt.holder(t, h)
			before := readLockContent(t, h, 101)
			l, err := h.Lock(101, "reinstalling")
			if err == nil {
				l.Release()
				t.Fatal("Lock succeeded over a held lock")
			}
			var locked *LockedError
			if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) {
				t.Fatalf("Lock error = %v, want a *LockedError", err)
			}
			if diff := cmp.Diff(&LockedError{CTID: 101, PID: pid, Status: status}, locked); diff != "" {
				t.Errorf("LockedError mismatch (-want +got):\n%s", diff)
			}
			if want := fmt.Sprintf("container 101 is locked by pid %d", pid); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start with %q", err, want)
			}
			if after := readLockContent(t, h, 101); after != before {
				t.Errorf("held lock file changed from %q to %q", before, after)
			}
			assertOnlyLockFile(t, h)
		})
	}
}

func TestLockedErrorMessage(t *testing.T) {
	tests := []struct {
		err  LockedError
		want string
	}{
		{LockedError{CTID: 101, PID: 4242, Status: "reinstalling"}, "container 101 is locked by pid 4242 (reinstalling)"},
		{LockedError{CTID: 101, PID: 4242}, "container 101 is locked by pid 4242"},
		{LockedError{CTID: 7}, "container 7 is locked"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestLockRelease(t *testing.T) {
	h := newTestHost(t, "")
	if _, err := os.Stat(h.LockDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("test host already has a lock dir: %v", err)
	}
	l, err := h.Lock(101, "reinstalling")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(h.LockDir); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("lock dir = %v, %v; want a 0755 directory", st, err)
	}
	if l.Path() != h.LockPath(101) {
		t.Errorf("Path() = %q, want %q", l.Path(), h.LockPath(101))
	}
	if got, want := readLockContent(t, h, 101), fmt.Sprintf("%d\nreinstalling\n", os.Getpid()); got != want {
		t.Errorf("lock file = %q, want %q", got, want)
	}
	assertOnlyLockFile(t, h)
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := os.Lstat(h.LockPath(101)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Release: %v, want it gone", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := h.Lock(101, "again")
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	l2.Release()
}

// TestLockReleaseLeavesForeignFile: if the file was replaced behind our back,
// Release must not delete the other file.
func TestLockReleaseLeavesForeignFile(t *testing.T) {
	h := newTestHost(t, "")
	l, err := h.Lock(101, "reinstalling")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(l.Path()); err != nil {
		t.Fatal(err)
	}
	writeLockFile(t, h, 101, "1\nsomeone else\n")
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got := readLockContent(t, h, 101); got != "1\nsomeone else\n" {
		t.Errorf("foreign lock file = %q after Release, want it untouched", got)
	}
}

func TestLockCloseOnExec(t *testing.T) {
	h := newTestHost(t, "")
	l, err := h.Lock(101, "reinstalling")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	flags, err := unix.FcntlInt(l.f.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Error("lock fd is not close-on-exec")
	}
	// And behaviourally: a child sees no open file in the lock directory.
	out, err := exec.Command("/bin/sh", "-c", `for f in /proc/$$/fd/*; do readlink "$f"; done; true`).CombinedOutput()
	if err != nil {
		t.Fatalf("list child fds: %v: %s", err, out)
	}
	if strings.Contains(string(out), h.LockDir) {
		t.Errorf("child inherited a lock fd:\n%s", out)
	}
}

func TestLockRefusesBadInput(t *testing.T) {
	h := newTestHost(t, "")
	if _, err := h.Lock(0, "x"); !errors.Is(err, ErrInvalidCTID) {
		t.Errorf("Lock(0) error = %v, want ErrInvalidCTID", err)
	}
	if _, err := h.Lock(101, "two\nlines"); err == nil {
		t.Error("Lock with a two-line status succeeded")
	}
}

func TestProcState(t *testing.T) {
	tests := []struct {
		stat string
		want byte
	}{
		{"42 (sleep) S 1 42 42 0", 'S'},
		{"42 (a) b) Z 1 42", 'Z'},
		{"42 (x y) R 1", 'R'},
		{"garbage", 0},
		{"42 (x)", 0},
	}
	for _, tt := range tests {
		if got := procState(tt.stat); got != tt.want {
			t.Errorf("procState(%q) = %q, want %q", tt.stat, got, tt.want)
		}
	}
}

// TestJudgeLockReplacedFile: a process opened a stale lock file, and before
// it flocked it, another one removed it and created its own. The late one
// must not remove the new file on the strength of the old one's content.
func TestJudgeLockReplacedFile(t *testing.T) {
	h := newTestHost(t, "")
	h.Log = func(msg string) { t.Errorf("unexpected log: %s", msg) }
	path := writeLockFile(t, h, 101, fmt.Sprintf("%d\nold\n", deadPID(t)))
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	writeLockFile(t, h, 101, fmt.Sprintf("%d\nnew\n", deadPID(t)))
	before := readLockContent(t, h, 101)

	state, _, err := h.judgeLock(101, path, old)
	if err != nil || state != lockGone {
		t.Errorf("judgeLock = %v, %v; want lockGone (retry)", state, err)
	}
	if after := readLockContent(t, h, 101); after != before {
		t.Errorf("lock file changed from %q to %q", before, after)
	}
}

// writeLockFile writes a lock file as another tool would and returns its path.
func writeLockFile(t *testing.T, h *Host, ctid int, content string) string {
	t.Helper()
	mustWrite(t, h.LockPath(ctid), content)
	return h.LockPath(ctid)
}

func readLockContent(t *testing.T, h *Host, ctid int) string {
	t.Helper()
	b, err := os.ReadFile(h.LockPath(ctid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flockFile holds an flock on path (through its own open file description)
// until the test ends.
func flockFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func assertOnlyLockFile(t *testing.T, h *Host) {
	t.Helper()
	entries, err := os.ReadDir(h.LockDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"101.lck"}, names); diff != "" {
		t.Errorf("lock dir entries mismatch (-want +got):\n%s", diff)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// zombiePID returns the pid of an exited child not yet reaped; the test
// reaps it at the end.
func zombiePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && procState(string(stat)) == 'Z' {
			return pid
		}
	}
	t.Fatalf("pid %d never became a zombie", pid)
	return 0
}

// sleeperPID starts a live process that the test kills at the end.
func sleeperPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}
