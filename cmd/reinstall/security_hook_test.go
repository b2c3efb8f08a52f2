package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// What vps.reinstall leaves becomes the new container, and scripts and
// plugins run on the host: the security suite's cases for them (contract §6).

// A vps.reinstall that exits 0 leaves the area that becomes the new container:
// a script that copies customer files may bring the container's tricks into
// it. The host-side steps after the hook (the swap's /old placement, the
// start's /etc/hostname write, the /bin/bash probe, the rollback's deletion)
// must not follow them either.
func TestHostileAreaLeftByHook(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		hook      string // shell run with $NEW (the temporary area) and $C (the canaries)
		configure string
		code      int
		lastLine  string
		check     func(t *testing.T, h *testHost)
	}{
		{name: "etc/hostname symlinked to a host file",
			hook: `rm -f "$NEW/etc/hostname"; ln -s "$C/etc/hostname" "$NEW/etc/hostname"`,
			check: func(t *testing.T, h *testHost) {
				if fi, err := os.Lstat(h.private("etc/hostname")); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("etc/hostname after the start: %v %v, want the regular file written by the start", fi, err)
				}
			}},
		{name: "etc/hostname a fifo", hook: `rm -f "$NEW/etc/hostname"; mkfifo "$NEW/etc/hostname"`},
		{name: "etc/hostname a directory", hook: `rm -f "$NEW/etc/hostname"; mkdir "$NEW/etc/hostname"`,
			code: 1, lastLine: "reinstall: start: "},
		{name: "etc symlinked to the host's", hook: `rm -rf "$NEW/etc"; ln -s "$C/etc" "$NEW/etc"`,
			code: 1, lastLine: "reinstall: start: "},
		{name: "etc symlinked through .. chains", hook: `rm -rf "$NEW/etc"; ln -s "../../../../../../../../../..$C/etc" "$NEW/etc"`,
			code: 1, lastLine: "reinstall: start: "},
		{name: "old symlinked to the host's", hook: `ln -s "$C/old" "$NEW/old"`,
			code: 1, lastLine: "reinstall: swap: the new private area already holds a non-empty"},
		{name: "old a fifo", hook: `mkfifo "$NEW/old"`,
			code: 1, lastLine: "reinstall: swap: the new private area already holds a non-empty"},
		{name: "bin/bash symlinked to the host's", hook: `ln -sf "$C/bin/bash" "$NEW/bin/bash"`,
			configure: "echo \"$0\" > /configure-shell\n",
			check: func(t *testing.T, h *testHost) {
				if got := readFile(t, h.private("configure-shell")); got != "/bin/sh\n" {
					t.Errorf("vps.configure ran with %q, want /bin/sh (the probe must not follow bin/bash out)", got)
				}
			}},
		{name: "the area replaced by a symlink to the host", hook: `rm -rf "$NEW"; ln -s "$C" "$NEW"`,
			code: 1, lastLine: "reinstall: vps-reinstall: vps.reinstall exited 0 but left"},
		{name: "a symlink loop at the top", hook: `rm -rf "$NEW/etc" "$NEW/sbin"; ln -s sbin "$NEW/etc"; ln -s etc "$NEW/sbin"`,
			code: 1, lastLine: "reinstall: swap: the new private area has no /sbin/test-init"},
	}
	host := newTestHost(t)
	host.createCT()
	pristine := host.Path("pristine-101")
	copyTree(t, host.private(""), pristine)
	canaries := host.canaries()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &testHost{Host: host.Host, t: t}
			h.resetCT(pristine)
			before := h.tree("")
			h.writeScript("vps.reinstall", fmt.Sprintf(`#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in --ve_private_tmp) NEW=$2; shift ;; esac
  shift
done
C=%s
%s
exit 0
`, canaries.Dir, tc.hook), 0o755)
			if tc.configure != "" {
				h.writeScript("vps.configure", tc.configure, 0o644)
			}
			if err := canaries.Arm(); err != nil {
				t.Fatal(err)
			}
			r := h.cli("101")
			if err := canaries.Check(); err != nil {
				t.Errorf("host files outside the private area were touched:\n%v", err)
			}
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if tc.code == 0 {
				assertTree(t, "the old area at /old", before, h.tree("old"))
			} else {
				if !strings.HasPrefix(r.lastLine(), tc.lastLine) {
					t.Errorf("last line %q, want prefix %q", r.lastLine(), tc.lastLine)
				}
				assertTree(t, "the private area", before, h.tree(""))
			}
			if tc.check != nil {
				tc.check(t, h)
			}
			h.assertClean()
		})
	}
}

// A vps.reinstall that leaves a mount inside the new area (here a bind mount
// of a host directory): the area is refused, and the rollback's deletion
// stops at the mount instead of deleting the host directory through it; the
// run asks for recovery, which finishes once the mount is gone.
func TestMountLeftByHookIsNeverCrossed(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	canaries := h.canaries()
	before := h.tree("")
	h.writeScript("vps.reinstall", fmt.Sprintf(`#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in --ve_private_tmp) NEW=$2; shift ;; esac
  shift
done
mkdir -p "$NEW/mnt/host"
mount --bind %s "$NEW/mnt/host"
exit 0
`, canaries.Dir), 0o755)
	if err := canaries.Arm(); err != nil {
		t.Fatal(err)
	}
	r := h.cli("101")
	for _, m := range mountsUnder(t, h.Root) {
		defer exec.Command("umount", "-l", m).Run()
	}
	if err := canaries.Check(); err != nil {
		t.Errorf("the bind-mounted host directory was touched:\n%v", err)
	}
	if r.code != 3 || !strings.Contains(r.stderr, "mount point") {
		t.Fatalf("exit %d, want 3 naming the mount point\n%s", r.code, r.stderr)
	}
	for _, m := range mountsUnder(t, h.Root) {
		if out, err := exec.Command("umount", "-l", m).CombinedOutput(); err != nil {
			t.Fatalf("umount %s: %v %s", m, err, out)
		}
	}
	if rec := h.cli("recover", "101"); rec.code != 0 {
		t.Fatalf("recover: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	if err := canaries.Check(); err != nil {
		t.Errorf("recover touched the host directory:\n%v", err)
	}
	h.assertClean()
}

func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	m, err := testenv.Mounts(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Scripts get the documented environment, plugins an allowlisted one (PATH
// and go-plugin's handshake) and the container's init and monitor a fixed
// one: the caller's secrets reach none of them.
func TestCallerEnvironmentStaysOut(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	rec := h.Path("record")
	h.writeScript("vps.reinstall", fmt.Sprintf(`#!/bin/sh
mkdir -p %[1]s
cat /proc/$PPID/environ > %[1]s/plugin-env
cat /proc/$$/environ > %[1]s/hook-env
stat -c '%%a %%u %%g' %[2]s > %[1]s/socket-dir
exit 0
`, rec, h.Path("run/reinstall/plugins")), 0o755)
	h.writeScript("vps.configure", "cat /proc/1/environ > /init-env\ncat /proc/$$/environ > /configure-env\n", 0o644)
	const secret = "s3cr3t-canary-token"
	r := h.cliEnv([]string{"SECRET_TOKEN=" + secret, "AWS_SECRET_ACCESS_KEY=" + secret, "SSH_AUTH_SOCK=/tmp/" + secret}, "101")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	goPlugin := []string{"REINSTALL_PLUGIN_MAGIC_COOKIE", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_PROTOCOL_VERSIONS",
		"PLUGIN_CLIENT_CERT", "PLUGIN_UNIX_SOCKET_DIR", "REINSTALL_FAULT"}
	envs := []struct {
		who, file string
		allowed   []string // nil: only the caller's keys are checked for
	}{
		{"the script plugin", filepath.Join(rec, "plugin-env"), append([]string{"PATH"}, goPlugin...)},
		{"vps.reinstall", filepath.Join(rec, "hook-env"), []string{"HOME", "PATH", "SHELL", "VEID"}},
		{"vps.configure", h.private("configure-env"), []string{"HOME", "PATH", "SHELL", "VEID"}},
		{"the container init", h.private("init-env"), []string{"container", "PATH", "HOME", "TERM"}},
		{"the container monitor", fmt.Sprintf("/proc/%d/environ", monitorPID(t, h)), []string{"PATH"}},
	}
	for _, e := range envs {
		data := readFile(t, e.file)
		if strings.Contains(data, secret) {
			t.Errorf("%s got the caller's secret", e.who)
		}
		var keys []string
		for _, kv := range strings.Split(data, "\x00") {
			if key, _, ok := strings.Cut(kv, "="); ok {
				keys = append(keys, key)
				if !slices.Contains(e.allowed, key) {
					t.Errorf("%s has %s in its environment", e.who, key)
				}
			}
		}
		if !slices.Contains(keys, "PATH") {
			t.Errorf("%s: no PATH in %q, the check saw nothing", e.who, data)
		}
		t.Logf("%s: %v", e.who, keys)
	}
	if got := readFile(t, filepath.Join(rec, "socket-dir")); got != "700 0 0\n" {
		t.Errorf("plugin socket directory mode/owner %q, want 700 0 0", got)
	}
}

// monitorPID reads the running container's monitor process (__ctmon) from
// the runtime's state file.
func monitorPID(t *testing.T, h *testHost) int {
	t.Helper()
	var state struct {
		MonitorPID int `json:"monitor_pid"`
	}
	if err := json.Unmarshal([]byte(readFile(t, h.Path("run/reinstall/ct/101.json"))), &state); err != nil {
		t.Fatal(err)
	}
	return state.MonitorPID
}
