package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// SIGTERM or Ctrl-C during a run cancels the running stage (its script is
// killed), rolls back and releases the lock.
func TestSignalCancelsAndRollsBack(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			before := h.tree("")
			rec := h.Path("record")
			h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\nmkdir -p %[1]s\necho $$ > %[1]s/pid\nexec sleep 60\n", rec), 0o755)
			cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "101")
			cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pidFile := filepath.Join(rec, "pid")
			waitFor(t, "the hook to start", func() bool { return exists(pidFile) })
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d (%v), want 1\n%s", code, err, stderr.String())
			}
			last := strings.TrimSpace(stderr.String())
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			if want := "reinstall: vps-reinstall: interrupted"; !strings.HasPrefix(last, want) {
				t.Errorf("last line %q, want prefix %q", last, want)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
			if pid <= 0 || alive(pid) {
				t.Errorf("the hook (pid %d) still runs after the interrupt", pid)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()
		})
	}
}

// alive tells whether pid is a live process: an orphan killed on a host
// whose pid 1 does not reap stays a zombie, which is not alive.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A closed output pipe (`reinstall 101 2>&1 | head -1`) does not kill a run
// halfway: it finishes, and leaves no journal behind.
func TestClosedOutputPipeDoesNotKillTheRun(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.Close() // the reader went away before the first line
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reinstall with a closed output pipe: %v", err)
	}
	if got := h.status(); got != "running" {
		t.Errorf("status %q, want running", got)
	}
	if !exists(h.private("old/home/customer/notes.txt")) {
		t.Error("the run did not finish: no /old")
	}
	h.assertClean()
}
