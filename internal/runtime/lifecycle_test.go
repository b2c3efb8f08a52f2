//go:build linux

package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 101, "/sbin/test-init")
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(c.spec.Private, "marker"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := c.status(); st != Stopped {
		t.Fatalf("status before start = %s", st)
	}
	c.start()
	if st := c.status(); st != Running {
		t.Fatalf("status after start = %s", st)
	}
	s := c.state()
	pidns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", s.InitPID))
	if err != nil {
		t.Fatal(err)
	}
	// Held open so the namespace's inode number cannot be reused by another
	// test's container once this one has stopped.
	nsRef, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", s.InitPID))
	if err != nil {
		t.Fatal(err)
	}
	defer nsRef.Close()

	t.Run("list", func(t *testing.T) {
		infos, err := c.rt.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []Info{{CTID: 101, InitPID: s.InitPID, MonitorPID: s.MonitorPID, Started: s.Started, Private: c.spec.Private, Root: c.spec.Root}}
		if diff := cmp.Diff(want, infos); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
	})
	t.Run("start twice", func(t *testing.T) {
		if err := c.rt.Start(ctx, c.spec); !errors.Is(err, ErrRunning) {
			t.Errorf("second start: %v, want ErrRunning", err)
		}
		if st := c.status(); st != Running {
			t.Errorf("status = %s", st)
		}
	})
	t.Run("pid 1 is the init", func(t *testing.T) {
		out, _ := c.run("", "cat", "/proc/1/cmdline")
		if !strings.Contains(out, "/sbin/test-init") {
			t.Errorf("/proc/1/cmdline = %q", out)
		}
		procs := containerProcs(t, c.spec.Private, pidns)
		if _, ok := procs[s.InitPID]; !ok {
			t.Errorf("host pid %d not seen as a container process (%v)", s.InitPID, procs)
		}
	})
	t.Run("hostname", func(t *testing.T) {
		if out, _ := c.run("", "hostname"); out != "ct101\n" {
			t.Errorf("hostname = %q", out)
		}
		b, err := os.ReadFile(filepath.Join(c.spec.Private, "etc/hostname"))
		if err != nil || string(b) != "ct101\n" {
			t.Errorf("etc/hostname = %q, %v", b, err)
		}
	})
	t.Run("only lo, up", func(t *testing.T) {
		if out, _ := c.run("", "ls", "/sys/class/net"); out != "lo\n" {
			t.Errorf("/sys/class/net = %q", out)
		}
		out, _ := c.run("", "cat", "/sys/class/net/lo/flags")
		flags, err := strconv.ParseUint(strings.TrimSpace(out), 0, 32)
		if err != nil || flags&1 == 0 {
			t.Errorf("lo flags = %q, want IFF_UP", out)
		}
	})
	t.Run("root is the private area", func(t *testing.T) {
		if out, _ := c.run("", "cat", "/marker"); out != "from host\n" {
			t.Errorf("/marker = %q", out)
		}
		if _, code := c.run("", "sh", "-c", "echo inside > /fromct"); code != 0 {
			t.Fatalf("write: exit %d", code)
		}
		b, err := os.ReadFile(filepath.Join(c.spec.Private, "fromct"))
		if err != nil || string(b) != "inside\n" {
			t.Errorf("Private/fromct = %q, %v", b, err)
		}
		if out, _ := c.run("", "pwd"); out != "/\n" {
			t.Errorf("cwd = %q", out)
		}
	})
	t.Run("dev", func(t *testing.T) {
		script := `test -c /dev/null && test -c /dev/urandom && test -c /dev/tty && test -L /dev/ptmx &&
			echo x > /dev/null && grep -q ' /dev/pts devpts ' /proc/mounts && grep -q ' /dev/shm tmpfs ' /proc/mounts`
		if _, code := c.run("", "sh", "-c", script); code != 0 {
			t.Errorf("dev check: exit %d", code)
		}
	})
	t.Run("no device nodes outside /dev", func(t *testing.T) {
		// A node in the private area (say, one an old container left at
		// /old/dev) must not open a device, and none can be made.
		node := filepath.Join(c.spec.Private, "hostnode")
		if err := unix.Mknod(node, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			script string
			want   int
		}{
			{"echo x > /hostnode", 1},
			{"mknod /tmp/null2 c 1 3", 1},
			{"echo x > /dev/null", 0},
			{"grep -q ' / [^ ]* [^ ]*nodev' /proc/mounts", 0},
		} {
			if _, code := c.run("", "sh", "-c", tc.script+" 2>/dev/null"); code != tc.want {
				t.Errorf("%q: exit %d, want %d", tc.script, code, tc.want)
			}
		}
	})
	t.Run("exit codes", func(t *testing.T) {
		for _, tc := range []struct {
			script string
			want   int
		}{{"exit 0", 0}, {"exit 7", 7}, {"kill -9 $$", 128 + 9}} {
			if _, code := c.run("", "sh", "-c", tc.script); code != tc.want {
				t.Errorf("%q: exit %d, want %d", tc.script, code, tc.want)
			}
		}
		if _, code := c.run("", "/no/such/command"); code != 127 {
			t.Errorf("missing command: exit %d, want 127", code)
		}
	})
	t.Run("stdin script", func(t *testing.T) {
		out, code := c.run("echo hi; exit 3", "sh", "-s")
		if out != "hi\n" || code != 3 {
			t.Errorf("sh -s: %q, exit %d", out, code)
		}
	})
	t.Run("exact env", func(t *testing.T) {
		for _, env := range [][]string{{"A=1", "B=two words", "PATH=/bin"}, {}} {
			var out strings.Builder
			code, err := c.rt.Exec(ctx, 101, ExecRequest{Argv: []string{"/usr/bin/env"}, Env: env, Stdout: &out})
			if err != nil || code != 0 {
				t.Fatalf("env: %d, %v", code, err)
			}
			got := strings.Fields(strings.ReplaceAll(out.String(), " ", "_"))
			want := []string{}
			for _, e := range env {
				want = append(want, strings.ReplaceAll(e, " ", "_"))
			}
			if diff := cmp.Diff(want, got, cmp.Transformer("sort", func(s []string) []string { return slices.Sorted(slices.Values(s)) })); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("caps dropped", func(t *testing.T) {
		for _, file := range []string{"/proc/1/status", "/proc/self/status"} {
			out, _ := c.run("", "grep", "CapBnd", file)
			f := strings.Fields(out)
			if len(f) != 2 {
				t.Fatalf("%s: %q", file, out)
			}
			bnd, err := strconv.ParseUint(f[1], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range DroppedCaps {
				if bnd&(1<<c) != 0 {
					t.Errorf("%s: CapBnd %s has cap %d", file, f[1], c)
				}
			}
			if bnd&(1<<unix.CAP_SYS_MODULE) != 0 {
				t.Errorf("%s: CapBnd %s has CAP_SYS_MODULE", file, f[1])
			}
			// No chattr +i/+a: a flag set on /old would block the rollback.
			if bnd&(1<<unix.CAP_LINUX_IMMUTABLE) != 0 {
				t.Errorf("%s: CapBnd %s has CAP_LINUX_IMMUTABLE", file, f[1])
			}
			if bnd&(1<<21) == 0 { // CAP_SYS_ADMIN stays: system containers mount
				t.Errorf("%s: CapBnd %s lacks CAP_SYS_ADMIN", file, f[1])
			}
		}
	})
	t.Run("proc and sys", func(t *testing.T) {
		// Only namespaced knobs are written here, in case the test is wrong.
		for _, tc := range []struct {
			script string
			want   int
		}{
			{"echo 1 > /proc/sys/net/ipv4/ip_forward", 0},
			{"echo x > /proc/sys/kernel/domainname", 1},
			{"grep -q ' /proc/sys proc ro,' /proc/mounts", 0},
			{"[ ! -e /proc/sysrq-trigger ] || grep -q ' /proc/sysrq-trigger proc ro,' /proc/mounts", 0},
			{"grep -q ' /sys sysfs ro,' /proc/mounts", 0},
		} {
			if _, code := c.run("", "sh", "-c", tc.script+" 2>/dev/null"); code != tc.want {
				t.Errorf("%q: exit %d, want %d", tc.script, code, tc.want)
			}
		}
	})
	t.Run("background child keeps the pipes", func(t *testing.T) {
		// Exec returns once the command exits, even though the sleep it left
		// behind holds stdout; the sleep must die with the container.
		out, code := c.run("", "sh", "-c", "sleep 1000 & echo started")
		if out != "started\n" || code != 0 {
			t.Errorf("got %q, exit %d", out, code)
		}
	})
	t.Run("host sees no mount", func(t *testing.T) {
		if m := hostMountsUnder(t, c.spec.Root, c.spec.Private); len(m) > 0 {
			t.Errorf("host mounts while running: %q", m)
		}
	})

	procs := containerProcs(t, c.spec.Private, pidns)
	if _, ok := procs[s.InitPID]; !ok || !slices.Contains(slices.Collect(maps.Values(procs)), "sleep 1000") {
		t.Errorf("container processes before stop: %v", procs)
	}
	c.stop()
	if st := c.status(); st != Stopped {
		t.Fatalf("status after stop = %s", st)
	}
	if start, _, err := procStart(s.InitPID); err == nil && start == s.InitStartTime {
		t.Errorf("init %d still exists", s.InitPID)
	}
	if procs := containerProcs(t, c.spec.Private, pidns); len(procs) > 0 {
		t.Errorf("container processes left: %v", procs)
	}
	if m := hostMountsUnder(t, c.spec.Root, c.spec.Private); len(m) > 0 {
		t.Errorf("mounts left: %q", m)
	}
	if _, err := os.Stat(statePath(c.rt.runDir, 101)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left: %v", err)
	}
	if err := c.rt.Stop(ctx, 101, testGrace); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if _, err := c.rt.Exec(ctx, 101, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("exec when stopped: %v, want ErrNotRunning", err)
	}
	if infos, err := c.rt.List(ctx); err != nil || len(infos) != 0 {
		t.Errorf("List after stop = %v, %v", infos, err)
	}

	// And again: a stopped container starts afresh.
	c.start()
	if out, _ := c.run("", "cat", "/fromct"); out != "inside\n" {
		t.Errorf("after restart /fromct = %q", out)
	}
	c.stop()
	if st := c.status(); st != Stopped {
		t.Fatalf("status after second stop = %s", st)
	}
}
