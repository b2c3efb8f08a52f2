//go:build linux

package vz

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The test binary doubles as a helper process: with helperEnv set it runs
// the named helper instead of the tests (the os/exec TestHelperProcess pattern).
const (
	helperEnv     = "VZ_TEST_HELPER"
	helperRootEnv = "VZ_TEST_ROOT"
	helperCTIDEnv = "VZ_TEST_CTID"
)

// Exit codes of the lock helper.
const (
	helperWon    = 0
	helperLocked = 9 // as the CLI's "container locked"
	helperFailed = 2
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "lock":
		os.Exit(lockHelper())
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", os.Getenv(helperEnv))
		os.Exit(helperFailed)
	}
}

// lockHelper waits for one byte on stdin (the starting gun), tries h.Lock
// and reports on stdout: "won" (then holds the lock until stdin closes and
// exits 0) or "locked <pid>" (exits 9).
func lockHelper() int {
	ctid, err := strconv.Atoi(os.Getenv(helperCTIDEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return helperFailed
	}
	h, err := OpenHost(os.Getenv(helperRootEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return helperFailed
	}
	h.Log = func(msg string) { fmt.Fprintln(os.Stderr, msg) }
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "waiting for the start:", err)
		return helperFailed
	}
	l, err := h.Lock(ctid, "racing")
	var locked *LockedError
	if errors.As(err, &locked) {
		fmt.Printf("locked %d\n", locked.PID)
		return helperLocked
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return helperFailed
	}
	fmt.Println("won")
	io.Copy(io.Discard, os.Stdin) // hold the lock until the parent says so
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return helperFailed
	}
	return helperWon
}

// TestLockRace starts several processes that try to take one lock at the
// same instant: exactly one wins, and every other one is refused while the
// winner holds it, naming the winner's pid.
func TestLockRace(t *testing.T) {
	const racers = 8
	tests := []struct {
		name  string
		setup func(t *testing.T, h *Host)
	}{
		{name: "no lock file", setup: func(*testing.T, *Host) {}},
		{name: "stale lock file", setup: func(t *testing.T, h *Host) {
			writeLockFile(t, h, 101, fmt.Sprintf("%d\nold\n", deadPID(t)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 3 {
				h := newTestHost(t, "")
				tt.setup(t, h)
				raceRound(t, h, racers, round)
			}
		})
	}
}

type racer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	line   string
}

func raceRound(t *testing.T, h *Host, n, round int) {
	t.Helper()
	racers := make([]*racer, n)
	for i := range racers {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=lock", helperRootEnv+"="+h.Root, helperCTIDEnv+"=101")
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := &racer{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
		racers[i] = r
		t.Cleanup(func() { r.stdin.Close(); r.cmd.Process.Kill(); r.cmd.Wait() })
	}
	for _, r := range racers { // the starting gun
		if _, err := r.stdin.Write([]byte{'g'}); err != nil {
			t.Fatal(err)
		}
	}
	var winner *racer
	for _, r := range racers {
		line, err := r.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("round %d: racer %d said %q: %v", round, r.cmd.Process.Pid, line, err)
		}
		r.line = strings.TrimSpace(line)
		if r.line == "won" {
			if winner != nil {
				t.Fatalf("round %d: both %d and %d took the lock", round, winner.cmd.Process.Pid, r.cmd.Process.Pid)
			}
			winner = r
		}
	}
	if winner == nil {
		t.Fatalf("round %d: nobody took the lock", round)
	}
	for _, r := range racers {
		if r == winner {
			continue
		}
		if want := fmt.Sprintf("locked %d", winner.cmd.Process.Pid); r.line != want {
			t.Errorf("round %d: loser %d said %q, want %q", round, r.cmd.Process.Pid, r.line, want)
		}
		if err := r.cmd.Wait(); exitCode(err) != helperLocked {
			t.Errorf("round %d: loser %d exited with %v, want exit %d", round, r.cmd.Process.Pid, err, helperLocked)
		}
	}
	// The winner still holds it: the file names it.
	if got, want := readLockContent(t, h, 101), fmt.Sprintf("%d\nracing\n", winner.cmd.Process.Pid); got != want {
		t.Errorf("round %d: lock file = %q while held, want %q", round, got, want)
	}
	winner.stdin.Close()
	if err := winner.cmd.Wait(); err != nil {
		t.Errorf("round %d: winner exited with %v", round, err)
	}
	if _, err := os.Lstat(h.LockPath(101)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("round %d: lock file still there after the winner released it: %v", round, err)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}
