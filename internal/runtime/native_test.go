//go:build linux

package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// The container outlives the process that started it.
func TestSurvivesStarter(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 102, "/sbin/test-init")
	spec, _ := json.Marshal(c.spec)
	cmd := exec.Command(selfExe(), "__teststart", c.rt.runDir, string(spec))
	if out, err := cmd.CombinedOutput(); err != nil { // returns only once the starter and its stdio are gone
		t.Fatalf("starter: %v: %s", err, out)
	}
	if st := c.status(); st != Running {
		t.Fatalf("status after the starter exited = %s\nlog:\n%s", st, c.log())
	}
	if out, code := c.run("", "hostname"); out != "ct102\n" || code != 0 {
		t.Errorf("hostname = %q, exit %d", out, code)
	}
	c.stop()
	if st := c.status(); st != Stopped {
		t.Errorf("status after stop = %s", st)
	}
}

// The template's real init (busybox) is asked with SIGUSR2 and stops by its
// poweroff path within the grace, not by SIGKILL.
func TestBusyboxInit(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 103, "/sbin/init")
	c.start()
	// busybox init runs rcS, then respawns "sleep 3600".
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := c.run("", "ps")
		if strings.Contains(out, "sleep 3600") {
			if !strings.Contains(out, "    1 root") || !strings.Contains(out, "init") {
				t.Errorf("ps:\n%s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no respawned sleep; ps:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	begin := time.Now()
	if err := c.rt.Stop(context.Background(), 103, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("busybox init stopped in %s", time.Since(begin).Round(time.Millisecond))
	log := c.log()
	for _, want := range []string{"SIGUSR2 to busybox init", "init exited: signal: interrupt", "container 103 stopped cleanly"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q (init did not stop by poweroff):\n%s", want, log)
		}
	}
	if st := c.status(); st != Stopped {
		t.Errorf("status = %s", st)
	}
}

// An init that ignores SIGTERM is killed after the grace.
func TestStopKillsAfterGrace(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 104, "/sbin/stubborn-init")
	script := "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n"
	if err := os.WriteFile(filepath.Join(c.spec.Private, "sbin/stubborn-init"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c.start()
	s := c.state()
	if err := c.rt.Stop(context.Background(), 104, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if log := c.log(); !strings.Contains(log, "init exited: signal: killed") {
		t.Errorf("log:\n%s", log)
	}
	if procs := containerProcs(t, c.spec.Private, ""); len(procs) > 0 {
		t.Errorf("processes left: %v", procs)
	}
	if start, _, err := procStart(s.InitPID); err == nil && start == s.InitStartTime {
		t.Errorf("init %d still exists", s.InitPID)
	}
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 105, "/sbin/no-such-init")
	err := c.rt.Start(context.Background(), c.spec)
	if err == nil || !strings.Contains(err.Error(), "exec /sbin/no-such-init") {
		t.Fatalf("start with a missing init: %v", err)
	}
	if st := c.status(); st != Stopped {
		t.Errorf("status = %s", st)
	}
	if m := hostMountsUnder(t, c.spec.Root, c.spec.Private); len(m) > 0 {
		t.Errorf("mounts left: %q", m)
	}
	// Nothing held: a good spec starts at once.
	c.spec.Init = "/sbin/test-init"
	c.start()
	c.stop()

	for name, mutate := range map[string]func(*Spec){
		"relative private": func(s *Spec) { s.Private = "private" },
		"missing private":  func(s *Spec) { s.Private = "/nonexistent/private" },
		"relative init":    func(s *Spec) { s.Init = "sbin/init" },
		"bad hostname":     func(s *Spec) { s.Hostname = "a/b" },
		"bad ctid":         func(s *Spec) { s.CTID = 0 },
	} {
		s := c.spec
		mutate(&s)
		if err := c.rt.Start(context.Background(), s); err == nil {
			t.Errorf("%s: started", name)
			c.stop()
		}
	}
}

// A cancelled start leaves nothing running.
func TestStartCancel(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 111, "/sbin/test-init")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.rt.Start(ctx, c.spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("start: %v, want context.Canceled", err)
	}
	if st := c.status(); st != Stopped {
		t.Errorf("status = %s", st)
	}
	if procs := containerProcs(t, c.spec.Private, ""); len(procs) > 0 {
		t.Errorf("processes left: %v", procs)
	}
	c.start()
	c.stop()
}

// Cancelling an Exec kills what it started inside the container.
func TestExecCancel(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 106, "/sbin/test-init")
	c.start()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := c.rt.Exec(ctx, 106, ExecRequest{Argv: []string{"sleep", "1234"}})
	t.Logf("cancelled exec returned after %s", time.Since(begin).Round(time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exec: %v, want deadline exceeded", err)
	}
	if out, _ := c.run("", "ps"); strings.Contains(out, "sleep 1234") {
		t.Errorf("sleep survived the cancel:\n%s", out)
	}
}

// Killing the monitor is a hard stop that still cleans up.
func TestMonitorKilled(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 107, "/sbin/test-init")
	c.start()
	s := c.state()
	if err := syscallKill(s.MonitorPID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.status() != Stopped {
		if time.Now().After(deadline) {
			t.Fatalf("still running after the monitor got SIGTERM; log:\n%s", c.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.stop() // waits for the monitor's exit
	if _, err := os.Stat(statePath(c.rt.runDir, 107)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left: %v", err)
	}
}

// Two containers in one state directory are listed by CTID.
func TestList(t *testing.T) {
	t.Parallel()
	a := newTestCT(t, 109, "/sbin/test-init")
	b := newTestCT(t, 108, "/sbin/test-init")
	b.rt = a.rt
	a.start()
	b.start()
	infos, err := a.rt.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, i := range infos {
		ids = append(ids, i.CTID)
	}
	if diff := cmp.Diff([]int{108, 109}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func syscallKill(pid int) error { return unix.Kill(pid, unix.SIGTERM) }
