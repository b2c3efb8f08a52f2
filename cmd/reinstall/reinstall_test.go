package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recordingHook is a vps.reinstall that records exactly how it was called
// (argv, environment, stdin, cwd) in dir, changes the temporary area, and
// exits with the given status.
func recordingHook(dir string, exit string) string {
	return fmt.Sprintf(`#!/bin/sh
rec=%s
mkdir -p "$rec"
printf '%%s\n' "$0" "$@" > "$rec/argv"
tr '\0' '\n' < /proc/$$/environ > "$rec/env"
readlink /proc/self/fd/0 > "$rec/stdin"
pwd > "$rec/cwd"
while [ $# -gt 0 ]; do
  case "$1" in --ve_private_tmp) NEW=$2; shift ;; esac
  shift
done
echo "hook output line"
echo "custom" > "$NEW/etc/custom-marker"
%s
`, dir, exit)
}

// recordingConfigure is a vps.configure that records what it sees inside
// the container into the new area.
const recordingConfigure = `echo "configure output line"
tr '\0' '\n' < /proc/$$/environ > /configure-env
hostname > /configure-hostname
cat /proc/1/cmdline | tr '\0' ' ' > /configure-pid1
pwd > /configure-cwd
ls /old/home/customer > /configure-old
echo "$0" > /configure-shell
`

func TestDefaultModeKeepsOldAtOld(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	r := h.mustCLI("101")
	if !strings.Contains(r.stderr, `provision "template"`) || !strings.Contains(r.stderr, "done in") {
		t.Errorf("no stage progress on stderr:\n%s", r.stderr)
	}
	assertTree(t, "the old area at /old", before, h.tree("old"))
	if exists(h.private("etc/broken.conf")) || !exists(h.private("etc/motd")) {
		t.Error("the new private area is not the fresh template")
	}
	if got := h.status(); got != "running" {
		t.Errorf("status after reinstall = %q, want running", got)
	}
	if got := h.exec("cat /old/home/customer/notes.txt"); got != "precious data\n" {
		t.Errorf("/old inside the container: %q", got)
	}
	h.mustCLI("ct", "stop", "101")
	h.mustCLI("ct", "start", "101")
	if got := h.exec("ls /old/home/customer/notes.txt"); got == "" {
		t.Error("/old does not survive a restart")
	}
	h.assertClean()
}

func TestDefaultModeSkipBackupDeletesOld(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writePrivate("home/customer/unique-marker", "marker-7f3a9c-old-data\n", 0o644)
	h.mustCLI("--skipbackup", "101")
	if exists(h.private("old")) {
		t.Error("/old exists after --skipbackup")
	}
	found := ""
	filepath.Walk(h.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() < 1<<16 {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), "marker-7f3a9c-old-data") {
				found = p
			}
		}
		return nil
	})
	if found != "" {
		t.Errorf("old data still on disk at %s", found)
	}
	h.assertClean()
}

func TestCustomModeScriptsContract(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	rec := h.Path("record")
	h.writeScript("vps.reinstall", recordingHook(rec, "exit 0"), 0o755)
	h.writeScript("vps.configure", recordingConfigure, 0o644)
	before := h.tree("")
	r := h.mustCLI("101")
	if !strings.Contains(r.stderr, "hook output line") || !strings.Contains(r.stderr, "configure output line") {
		t.Errorf("script output not in the log:\n%s", r.stderr)
	}
	// contract §2.2: argv, environment, stdin and cwd exactly.
	script := h.Path("etc/vz/conf/vps.reinstall")
	private := h.Path("vz/private/101")
	wantArgv := strings.Join([]string{script, "--veid", "101", "--ve_private_tmp", private + ".reinstall", "--ve_private", private}, "\n") + "\n"
	if d := cmp.Diff(wantArgv, readFile(t, filepath.Join(rec, "argv"))); d != "" {
		t.Errorf("vps.reinstall argv (-want +got):\n%s", d)
	}
	wantEnv := []string{"HOME=/", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh", "VEID=101"}
	if d := cmp.Diff(wantEnv, sortedLines(readFile(t, filepath.Join(rec, "env")))); d != "" {
		t.Errorf("vps.reinstall environment (-want +got):\n%s", d)
	}
	if got := readFile(t, filepath.Join(rec, "stdin")); got != "/dev/null\n" {
		t.Errorf("vps.reinstall stdin = %q, want /dev/null", got)
	}
	if got := readFile(t, filepath.Join(rec, "cwd")); got != "/\n" {
		t.Errorf("vps.reinstall cwd = %q, want /", got)
	}
	// Custom mode: the script's area became the new private area.
	if got := readFile(t, h.private("etc/custom-marker")); got != "custom\n" {
		t.Errorf("custom marker = %q", got)
	}
	assertTree(t, "the old area at /old", before, h.tree("old"))
	// contract §2.5: vps.configure ran inside the running container.
	wantConfEnv := wantEnv
	if d := cmp.Diff(wantConfEnv, sortedLines(readFile(t, h.private("configure-env")))); d != "" {
		t.Errorf("vps.configure environment (-want +got):\n%s", d)
	}
	for file, want := range map[string]string{
		"configure-hostname": "ct101.example\n",
		"configure-pid1":     "/bin/sh /sbin/test-init ",
		"configure-cwd":      "/\n",
		"configure-old":      "link\nnotes.txt\n",
		"configure-shell":    "/bin/sh\n",
	} {
		if got := readFile(t, h.private(file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	h.assertClean()
}

func TestCustomModeWithoutConfigure(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 0"), 0o755)
	h.mustCLI("101")
	if !exists(h.private("etc/custom-marker")) || !exists(h.private("old/home/customer/notes.txt")) {
		t.Error("custom mode without vps.configure did not keep the script's area and /old")
	}
	h.assertClean()
}

func TestCustomModeSkipBackupConfigureSeesOld(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 0"), 0o755)
	h.writeScript("vps.configure", recordingConfigure, 0o644)
	h.mustCLI("--skipbackup", "101")
	if got := readFile(t, h.private("configure-old")); got != "link\nnotes.txt\n" {
		t.Errorf("vps.configure saw /old as %q", got)
	}
	if exists(h.private("old")) {
		t.Error("/old still there after --skipbackup")
	}
	h.assertClean()
}

func TestHookExit128GivesPristineTemplate(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 128"), 0o755)
	h.writeScript("vps.configure", recordingConfigure, 0o644)
	h.mustCLI("101")
	if exists(h.private("etc/custom-marker")) {
		t.Error("the script's change survived exit 128")
	}
	if exists(h.private("configure-env")) {
		t.Error("vps.configure ran after vps.reinstall exit 128")
	}
	if !exists(h.private("etc/motd")) || !exists(h.private("old/home/customer/notes.txt")) {
		t.Error("default mode did not provision the template and keep /old")
	}
	h.assertClean()
}

func TestHookFailuresRollBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		mode       os.FileMode
		reason     string
	}{
		{"exit 1", recordingHook("/nonexistent-dir-ok", "exit 1"), 0o755, "vps.reinstall exited with status 1"},
		{"killed by a signal", "#!/bin/sh\nkill -9 $$\n", 0o755, "vps.reinstall: killed by signal 9"},
		{"not executable", "#!/bin/sh\nexit 0\n", 0o644, "vps.reinstall: cannot run it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			before := h.tree("")
			h.writeScript("vps.reinstall", tc.body, tc.mode)
			r := h.cli("101")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if want := "reinstall: vps-reinstall: " + tc.reason; !strings.HasPrefix(r.lastLine(), want) {
				t.Errorf("last stderr line %q, want prefix %q", r.lastLine(), want)
			}
			assertTree(t, "the private area", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status %q, want stopped", got)
			}
			h.assertClean()
		})
	}
}

func TestConfigureFailureRollsBack(t *testing.T) {
	t.Parallel()
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			args := []string{"101"}
			if running {
				h.mustCLI("ct", "start", "101") // writes /etc/hostname
				args = []string{"--stop", "101"}
			}
			before := h.tree("")
			h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 0"), 0o755)
			h.writeScript("vps.configure", "ls /old > /dev/null\necho failing >&2\nexit 1\n", 0o644)
			r := h.cli(args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if want := "reinstall: vps-configure: vps.configure exited with status 1"; !strings.HasPrefix(r.lastLine(), want) {
				t.Errorf("last line %q, want prefix %q", r.lastLine(), want)
			}
			assertTree(t, "the private area", before, h.tree(""))
			want := "stopped"
			if running {
				want = "running"
			}
			if got := h.status(); got != want {
				t.Errorf("status %q, want %q", got, want)
			}
			h.assertClean()
		})
	}
}

func TestRunningContainerNeedsStop(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.mustCLI("ct", "start", "101")
	before := h.tree("")
	r := h.cli("101")
	if r.code != 32 {
		t.Fatalf("exit %d, want 32\n%s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.lastLine(), "reinstall: preflight: container 101 is running") {
		t.Errorf("last line %q", r.lastLine())
	}
	assertTree(t, "the private area", before, h.tree(""))
	// With --stop, the container still runs while provision and the hook run.
	state := h.Path("run/reinstall/ct/101.json")
	rec := h.Path("record")
	h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\nmkdir -p %s\n[ -e %s ] && echo running > %s/state-during-hook\nexit 128\n", rec, state, rec), 0o755)
	h.mustCLI("--stop", "101")
	if got := readFile(t, filepath.Join(rec, "state-during-hook")); got != "running\n" {
		t.Errorf("container state while the hook ran: %q, want running", got)
	}
	if got := h.status(); got != "running" {
		t.Errorf("status %q after --stop reinstall, want running", got)
	}
	h.assertClean()
}

func TestOnePluginProcessPerPlugin(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	rec := h.Path("record")
	// The hook runs inside the run's cgroup: it lists the processes there.
	h.writeScript("vps.reinstall", fmt.Sprintf(`#!/bin/sh
mkdir -p %[1]s
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
echo "$cg" > %[1]s/cgroup
for p in $(cat /sys/fs/cgroup/unified$cg/cgroup.procs); do
  tr '\0' ' ' < /proc/$p/cmdline; echo
done > %[1]s/procs
exit 128
`, rec), 0o755)
	h.mustCLI("101")
	var plugins []string
	for _, line := range strings.Split(readFile(t, filepath.Join(rec, "procs")), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "__plugin" {
			plugins = append(plugins, f[2])
		}
	}
	sort.Strings(plugins)
	want := []string{"backup-retention", "credentials", "health", "provision", "reinstall-scripts", "script", "start", "swap"}
	if d := cmp.Diff(want, plugins); d != "" {
		t.Errorf("plugin processes during the run (-want +got):\n%s", d)
	}
	cg := strings.TrimSpace(readFile(t, filepath.Join(rec, "cgroup")))
	if !strings.Contains(cg, "/reinstall/") {
		t.Errorf("hook cgroup %q is not the run's", cg)
	}
	if exists("/sys/fs/cgroup/unified" + cg) {
		t.Errorf("run cgroup %s left after the run", cg)
	}
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(lines)
	return lines
}
