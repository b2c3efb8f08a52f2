package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestStopWithStoppedExec: a command run by `ct exec` is stopped (as
// systemd's shutdown stops every process before it sends SIGTERM), so the
// nsenter that waits for it on the host stops itself too and would never
// reap it, and the container's init could never finish dying. ct stop
// resumes it and the container stops.
func TestStopWithStoppedExec(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.mustCLI("ct", "start", "101")
	secs := strconv.Itoa(100000 + rand.IntN(800000))
	exe := exec.Command(os.Args[0], "--root", h.Root, "ct", "exec", "101", "--", "sleep", secs)
	exe.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	must(t, exe.Start())
	done := make(chan error, 1)
	go func() { done <- exe.Wait() }()
	t.Cleanup(func() { exe.Process.Kill(); <-done })

	sleeps := func() []string {
		return scanProcesses(func(pid string) bool {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			return string(cmdline) == "sleep\x00"+secs+"\x00"
		})
	}
	waitFor(t, "the exec'd sleep", func() bool { return len(sleeps()) == 1 })
	pid, _ := strconv.Atoi(strings.Fields(sleeps()[0])[0])
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	waitFor(t, "nsenter to stop with its child", func() bool { return processState(parentOf(pid)) == "T" })

	r := h.cli("--stop-timeout", "5s", "ct", "stop", "101")
	if r.code != 0 {
		t.Fatalf("ct stop: exit %d\n%s", r.code, r.stderr)
	}
	if st := h.status(); st != "stopped" {
		t.Errorf("status %q after ct stop", st)
	}
	if left := sleeps(); len(left) > 0 {
		t.Errorf("the exec'd command outlived the container: %v", left)
	}
}

// processState is the state letter of /proc/<pid>/stat ("" if gone).
func processState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(f) < 2 {
		return ""
	}
	return f[0]
}

// parentOf is the parent pid of pid (0 if gone).
func parentOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
