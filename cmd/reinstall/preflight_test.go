package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Every refusal of contract §2.0 changes nothing and says why, with the
// contract's exit code.
func TestPreflightRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, h *testHost) (args []string)
		code  int
		want  string // prefix of the last stderr line
	}{
		{"unknown container", func(t *testing.T, h *testHost) []string { return []string{"999"} },
			2, "reinstall: preflight: "},
		{"invalid CTID", func(t *testing.T, h *testHost) []string { return []string{"--", "0101"} },
			2, "reinstall: preflight: "},
		{"unknown name", func(t *testing.T, h *testHost) []string { return []string{"nosuchname"} },
			2, "reinstall: preflight: "},
		{"missing template", func(t *testing.T, h *testHost) []string {
			h.WriteConfig(101, "OSTEMPLATE=nosuch-template\nINIT=/sbin/test-init\n")
			return []string{"101"}
		}, 2, "reinstall: preflight: "},
		{"symlinked private area", func(t *testing.T, h *testHost) []string {
			p := h.Path("vz/private/101")
			if err := os.Rename(p, p+"-real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p+"-real", p); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(p); os.Rename(p+"-real", p) })
			return []string{"101"}
		}, 2, "reinstall: preflight: private area of container 101: "},
		{"mount inside the private area", func(t *testing.T, h *testHost) []string {
			dir := h.private("mnt")
			os.MkdirAll(dir, 0o755)
			if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
			return []string{"101"}
		}, 2, "reinstall: preflight: private area of container 101: "},
		{"private area symlinked to a host directory", func(t *testing.T, h *testHost) []string {
			p := h.Path("vz/private/101")
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(h.Path("host"), p); err != nil {
				t.Fatal(err)
			}
			return []string{"--skipbackup", "101"}
		}, 2, "reinstall: preflight: private area of container 101: %ROOT%/vz/private/101: private area is a symlink"},
		{"host directory bind-mounted deep inside", func(t *testing.T, h *testHost) []string {
			dir := h.private("home/customer/deep/mnt")
			os.MkdirAll(dir, 0o755)
			if err := unix.Mount(h.Path("host"), dir, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
			return []string{"--skipbackup", "101"}
		}, 2, "reinstall: preflight: private area of container 101: %ROOT%/vz/private/101: mount point inside the private area: %ROOT%/vz/private/101/home/customer/deep/mnt"},
		{"private area is a mount point", func(t *testing.T, h *testHost) []string {
			dir := h.private("")
			if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
			return []string{"101"}
		}, 2, "reinstall: preflight: private area of container 101: "},
		{"leftover temporary area", func(t *testing.T, h *testHost) []string {
			os.Mkdir(h.Path("vz/private/101.reinstall"), 0o700)
			t.Cleanup(func() { os.Remove(h.Path("vz/private/101.reinstall")) })
			return []string{"101"}
		}, 2, "reinstall: preflight: " + "%ROOT%/vz/private/101.reinstall is left from an interrupted run"},
		{"unfinished journal", func(t *testing.T, h *testHost) []string {
			os.WriteFile(h.Path("vz/lock/101.journal"), []byte("{}\n"), 0o600)
			t.Cleanup(func() { os.Remove(h.Path("vz/lock/101.journal")) })
			return []string{"101"}
		}, 3, "reinstall: preflight: an earlier reinstall of container 101 did not finish"},
		{"locked by a live process", func(t *testing.T, h *testHost) []string {
			sleep := exec.Command("sleep", "60")
			if err := sleep.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait(); os.Remove(h.Path("vz/lock/101.lck")) })
			os.WriteFile(h.Path("vz/lock/101.lck"), []byte(fmt.Sprintf("%d\n", sleep.Process.Pid)), 0o600)
			return []string{"101"}
		}, 9, "reinstall: preflight: container 101 is locked by pid"},
		{"broken pipeline", func(t *testing.T, h *testHost) []string {
			f := h.Path("bad.hcl")
			os.WriteFile(f, []byte("pipeline \"x\" {\n  stage \"provison\" \"p\" {}\n}\n"), 0o644)
			return []string{"--pipeline", f, "101"}
		}, 2, "reinstall: preflight: %ROOT%/bad.hcl:2:9: Unknown stage kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			canaries := h.canaries()
			args := tc.setup(t, h)
			before := h.tree("")
			if err := canaries.Arm(); err != nil {
				t.Fatal(err)
			}
			r := h.cli(args...)
			if err := canaries.Check(); err != nil {
				t.Errorf("host files touched by a refused run:\n%v", err)
			}
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if want := strings.ReplaceAll(tc.want, "%ROOT%", h.Root); !strings.HasPrefix(r.lastLine(), want) {
				t.Errorf("last line %q, want prefix %q", r.lastLine(), want)
			}
			assertTree(t, "the private area", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status %q, want stopped", got)
			}
		})
	}
}
