package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// A FIFO where a host state or config file belongs (the lock, the journal,
// the container's config, vz.conf, the site pipeline, the runtime's console
// log) is refused at once with exit 2 and one line naming it: nothing
// blocks on opening it, so no run hangs and nothing is changed. A runtime
// state file that cannot be read is stale, and removed.
func TestSpecialStateFilesRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		fifo string // host path made a FIFO
		args []string
		code int
	}{
		{"lock, reinstall", "vz/lock/101.lck", []string{"101"}, 2},
		{"lock, recover", "vz/lock/101.lck", []string{"recover", "101"}, 2},
		{"lock, ct start", "vz/lock/101.lck", []string{"ct", "start", "101"}, 2},
		{"journal, recover", "vz/lock/101.journal", []string{"recover", "101"}, 2},
		{"journal, status", "vz/lock/101.journal", []string{"status", "101"}, 2},
		{"journal, reinstall", "vz/lock/101.journal", []string{"101"}, 3},
		{"container config, reinstall", "etc/vz/conf/101.conf", []string{"101"}, 2},
		{"container config, ct start", "etc/vz/conf/101.conf", []string{"ct", "start", "101"}, 2},
		{"vz.conf, reinstall", "etc/vz/vz.conf", []string{"101"}, 2},
		{"site pipeline, reinstall", "etc/vz/reinstall.hcl", []string{"101"}, 2},
		{"runtime state, ct status", "run/reinstall/ct/101.json", []string{"ct", "status", "101"}, 0}, // removed as stale
		{"console log, ct start", "run/reinstall/ct/101.log", []string{"ct", "start", "101"}, 2},
	}
	host := newTestHost(t)
	host.createCT()
	before := host.tree("")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &testHost{Host: host.Host, t: t}
			p := h.Path(tc.fifo)
			saved, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			os.Remove(p)
			os.MkdirAll(filepath.Dir(p), 0o700)
			if err := unix.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				os.Remove(p)
				if saved != nil {
					os.WriteFile(p, saved, 0o644)
				}
			})
			r := h.runBounded(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if tc.code == 0 {
				if exists(p) {
					t.Errorf("%s kept", p)
				}
				return
			}
			if line := r.lastLine(); !strings.Contains(line, p) {
				t.Errorf("last line does not name %s: %q", p, line)
			}
			if tc.code == 2 && !strings.Contains(r.lastLine(), "is a FIFO") {
				t.Errorf("last line does not say what is wrong: %q", r.lastLine())
			}
			st, err := os.Lstat(p)
			if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("%s was replaced or removed (%v)", p, err)
			}
			if tc.args[0] != "ct" { // a start writes etc/hostname first
				assertTree(t, "the private area", before, h.tree(""))
			}
		})
	}
}

// runBounded runs the CLI like cli, but a run still going after a minute
// is ended with SIGKILL and fails the test: it was waiting on something.
func (h *testHost) runBounded(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)
	cmd := exec.CommandContext(ctx, os.Args[0], full...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("reinstall %v did not end by itself: it blocked\n%s", args, stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run reinstall %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// A command for a container the host does not have is refused with exit 2
// before it writes anything: no log file, no lock directory, no request
// record. The host under --root stays byte for byte as it was.
func TestUnknownContainerLeavesNoTrace(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(root+"/etc/vz", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/etc/vz/vz.conf", []byte("VE_PRIVATE=/vz/private/$VEID\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &testHost{Host: &testenv.Host{Root: root}, t: t}
	before, err := testenv.HashTree(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"999"},
		{"--skipbackup", "--stop", "999"},
		{"--output=result", "--request-id", "req-1", "999"},
		{"--json", "999"},
		{"998", "999"},
		{"recover", "999"},
		{"recover", "--json", "999"},
		{"status", "999"},
	} {
		r := h.runBounded(t, args...)
		if args[0] == "status" {
			if r.code != 0 {
				t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
		} else if r.code != 2 || !strings.Contains(r.stdout+r.stderr, "unknown container 999") {
			t.Errorf("%v: exit %d, want 2 and unknown container 999\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		after, err := testenv.HashTree(root)
		if err != nil {
			t.Fatal(err)
		}
		assertTree(t, fmt.Sprintf("the host after %v", args), before, after)
	}
}

// While a reinstall is unfinished (its journal is there and no live run
// owns it), `ct start`, `ct stop` and `ct exec` are refused with exit 3 and
// the command that gets out: they would start the half-built new area or
// let the container write to /old. A live run holding the lock (whose
// runtime wrapper calls back with --skiplock) is let through.
func TestCtCommandsRefuseUnfinishedReinstall(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	journal := h.Path("vz/lock/101.journal")
	if err := os.WriteFile(journal, []byte(`{"seq":1,"type":"run"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "run `reinstall recover 101`"
	refused := func(args ...string) {
		t.Helper()
		r := h.runBounded(t, args...)
		if r.code != 3 || !strings.Contains(r.lastLine(), want) || !strings.Contains(r.lastLine(), journal) {
			t.Errorf("%v: exit %d, want 3 and %q naming the journal\n%s", args, r.code, want, r.stderr)
		}
	}
	refused("ct", "start", "101")
	refused("ct", "start", "--skiplock", "101")
	if st := h.status(); st != "stopped" {
		t.Fatalf("container %s after a refused start", st)
	}

	// A live run holds the lock: its own calls go through.
	host, err := vz.OpenHost(h.Root)
	if err != nil {
		t.Fatal(err)
	}
	host.Log = func(string) {}
	lock, err := host.Lock(101, "reinstalling")
	if err != nil {
		t.Fatal(err)
	}
	h.mustCLI("ct", "start", "--skiplock", "101")
	if out := h.exec("echo inside"); out != "inside\n" {
		t.Errorf("ct exec during the live run: %q", out)
	}
	lock.Release()

	// The run died: nothing but recover may touch the container.
	refused("ct", "exec", "101", "--", "/bin/true")
	refused("ct", "stop", "101")
	refused("ct", "stop", "--skiplock", "101")
	if st := h.status(); st != "running" {
		t.Errorf("container %s after a refused stop", st)
	}
	if err := os.Remove(journal); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("ct", "stop", "101")
}

// A FIFO at vps.configure (custom mode) fails its stage at once, naming
// it, and the run rolls back: nothing waits on it.
func TestFifoConfigureScriptRollsBack(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 0\n", 0o755)
	p := h.Path("etc/vz/conf/vps.configure")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	before := h.tree("")
	r := h.runBounded(t, "101")
	if r.code != 1 || !strings.Contains(r.lastLine(), p+" is a FIFO") {
		t.Fatalf("exit %d, want 1 naming the FIFO\n%s", r.code, r.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
}
