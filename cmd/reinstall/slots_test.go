package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/reinstall-dev/reinstall/internal/slots"
)

// With the host's limit reached (another process holds every slot), a run
// says it waits for a slot, and runs once one is free: it never fails
// because of the limit.
func TestRunWaitsForASlot(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	if err := os.WriteFile(h.Path("etc/vz/vz.conf"), append([]byte(readFile(t, h.Path("etc/vz/vz.conf"))), "REINSTALL_MAX_CONCURRENT=1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	held, err := slots.Acquire(context.Background(), h.Path("vz/lock"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(h.Path("stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--json", "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slot-waiting event", func() bool { return strings.Contains(readFile(t, out.Name()), `"type":"slot-waiting"`) })
	if exists(h.private("old")) {
		t.Error("the run went on without a slot")
	}
	held.Release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the run that waited: %v", err)
	}
	events := parseEvents(t, readFile(t, out.Name()))
	if ev := events[0]; ev.Type != "slot-waiting" || ev.CTID != 101 || !strings.Contains(ev.Message, "waiting for a slot") {
		t.Errorf("first event %+v", ev)
	}
	if !exists(h.private("old/home/customer/notes.txt")) {
		t.Error("not reinstalled after the wait")
	}
	// --max-concurrent overrides vz.conf: with 2, the second slot is free.
	held, _ = slots.Acquire(context.Background(), h.Path("vz/lock"), 1, nil)
	defer held.Release()
	os.RemoveAll(h.private("old"))
	r := h.cli("--json", "--stop", "--max-concurrent", "2", "101")
	if r.code != 0 || strings.Contains(r.stdout, "slot-waiting") {
		t.Errorf("--max-concurrent 2 with one slot held: exit %d\n%s", r.code, r.stdout)
	}
}

// A vz.conf limit that is no number is refused before any change.
func TestMaxConcurrentInvalid(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	os.WriteFile(h.Path("etc/vz/vz.conf"), []byte("REINSTALL_MAX_CONCURRENT=many\n"), 0o644)
	r := h.cli("--output=result", "101")
	res := parseResult(t, r.stdout)
	if r.code != 2 || res.Reason != "config-invalid" || !strings.Contains(res.Msg, "REINSTALL_MAX_CONCURRENT") {
		t.Errorf("exit %d, result %+v", r.code, res)
	}
}

// SIGTERM ends a run that waits for a slot at once: it changes nothing,
// leaves no lock or journal behind, and the next run goes through.
func TestSIGTERMEndsASlotWait(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	held, err := slots.Acquire(context.Background(), h.Path("vz/lock"), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	out, err := os.Create(h.Path("stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--max-concurrent", "1", "--json", "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slot-waiting event", func() bool { return strings.Contains(readFile(t, out.Name()), `"type":"slot-waiting"`) })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute): // a hang guard, not a timing assertion
		cmd.Process.Kill()
		t.Fatal("SIGTERM did not end the wait for a slot")
	}
	if err == nil {
		t.Fatal("a run ended by SIGTERM exited 0")
	}
	if d := cmp.Diff(before, h.tree("")); d != "" {
		t.Errorf("the private area changed (-before +after):\n%s", d)
	}
	if exists(h.Path("vz/lock/101.journal")) {
		t.Error("a journal was left behind")
	}
	held.Release()
	if r := h.cli("101"); r.code != 0 {
		t.Errorf("the next run: exit %d\n%s", r.code, r.stderr)
	}
}
