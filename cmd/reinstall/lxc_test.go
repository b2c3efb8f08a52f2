package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// lxcHost is a test host whose containers are real LXC containers in a
// temporary lxcpath, reinstalled from the host's busybox template cache.
type lxcHost struct {
	*testHost
	lxcpath string
}

// newLXCHost makes an lxcpath with the LXC container "web", created by
// LXC's busybox template with no network and without the template's
// binds of the host's /lib directories (the reinstalled OS is a static
// busybox, with none to bind them on), holding a customer's file.
func newLXCHost(t *testing.T) *lxcHost {
	t.Helper()
	if _, err := exec.LookPath("lxc-create"); err != nil {
		t.Fatal("lxc-create is not on PATH: install Debian's lxc package (scripts/install-deps.sh does)")
	}
	h := &lxcHost{testHost: newTestHost(t)}
	dir, err := os.MkdirTemp("", "ri-lxc-")
	if err != nil {
		t.Fatal(err)
	}
	h.lxcpath = dir
	t.Cleanup(func() {
		exec.Command("lxc-stop", "-P", dir, "-n", "web", "--kill").Run()
		exec.Command("lxc-destroy", "-P", dir, "-n", "web", "--force").Run()
		os.RemoveAll(dir)
	})
	if out, err := exec.Command("lxc-create", "-P", dir, "-n", "web", "-t", "busybox").CombinedOutput(); err != nil {
		t.Fatalf("lxc-create: %v\n%s", err, out)
	}
	conf := h.lxcConfig()
	var lines []string
	for _, l := range strings.Split(readFile(t, conf), "\n") {
		if !strings.HasPrefix(l, "lxc.net.") && !strings.Contains(l, " none ro,bind 0 0") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "lxc.net.0.type = empty", "")
	must(t, os.WriteFile(conf, []byte(strings.Join(lines, "\n")), 0o644))
	h.writeRootfs("home/customer/notes.txt", "precious data\n")
	return h
}

func (h *lxcHost) lxcConfig() string { return filepath.Join(h.lxcpath, "web", "config") }

func (h *lxcHost) rootfs(rel string) string { return filepath.Join(h.lxcpath, "web", "rootfs", rel) }

func (h *lxcHost) writeRootfs(rel, content string) {
	h.t.Helper()
	must(h.t, os.MkdirAll(filepath.Dir(h.rootfs(rel)), 0o755))
	must(h.t, os.WriteFile(h.rootfs(rel), []byte(content), 0o644))
}

// lxc runs the CLI with --runtime lxc on the lxcpath.
func (h *lxcHost) lxc(args ...string) result {
	h.t.Helper()
	return h.cli(append([]string{"--runtime", "lxc", "--lxcpath", h.lxcpath}, args...)...)
}

// state is what LXC itself says of "web".
func (h *lxcHost) state() string {
	h.t.Helper()
	out, err := exec.Command("lxc-info", "-P", h.lxcpath, "-n", "web", "-s", "-H").Output()
	if err != nil {
		h.t.Fatalf("lxc-info: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func (h *lxcHost) startLXC() {
	h.t.Helper()
	if out, err := exec.Command("lxc-start", "-P", h.lxcpath, "-n", "web", "-d").CombinedOutput(); err != nil {
		h.t.Fatalf("lxc-start: %v\n%s", err, out)
	}
	if st := h.state(); st != "RUNNING" {
		h.t.Fatalf("lxc-start: the container is %s", st)
	}
}

// assertLXCClean: nothing of a run is left beside the rootfs or in the
// container's directory but the settings file.
func (h *lxcHost) assertLXCClean() {
	h.t.Helper()
	left, _ := filepath.Glob(h.rootfs("") + ".*")
	for _, f := range []string{"reinstall.lck", "reinstall.journal"} {
		if exists(filepath.Join(h.lxcpath, "web", f)) {
			left = append(left, f)
		}
	}
	if len(left) > 0 {
		h.t.Errorf("left behind: %v", left)
	}
}

func TestLXCReinstall(t *testing.T) {
	h := newLXCHost(t)
	h.startLXC()
	confBefore := readFile(t, h.lxcConfig())
	args := filepath.Join(h.Root, "hook-args")
	h.writeScript("vps.reinstall", "#!/bin/sh\necho \"$VEID $*\" > "+args+"\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "echo \"$VEID $(cat /old/home/customer/notes.txt)\" > /configured\n", 0o644)

	r := h.lxc("--stop", "-t", testenv.DefaultTemplate, "web")
	if r.code != 0 {
		t.Fatalf("reinstall: exit %d\n%s", r.code, r.stderr)
	}
	if st := h.state(); st != "RUNNING" {
		t.Errorf("after the reinstall LXC says %s, want RUNNING", st)
	}
	if !strings.Contains(r.stderr, "reinstall web: ") {
		t.Errorf("progress does not name the container web:\n%s", r.stderr)
	}
	wantArgs := "web --veid web --ve_private_tmp " + h.rootfs("") + ".reinstall --ve_private " + h.rootfs("") + "\n"
	if got := readFile(t, args); got != wantArgs {
		t.Errorf("vps.reinstall got %q, want %q", got, wantArgs)
	}
	if got := readFile(t, h.rootfs("configured")); got != "web precious data\n" {
		t.Errorf("vps.configure wrote %q inside the container", got)
	}
	if got := readFile(t, h.rootfs("etc/motd")); got != "fresh busybox template\n" {
		t.Errorf("/etc/motd is %q, not the template's", got)
	}
	if got := readFile(t, h.rootfs("old/home/customer/notes.txt")); got != "precious data\n" {
		t.Errorf("/old/home/customer/notes.txt is %q", got)
	}
	if got := readFile(t, h.lxcConfig()); got != confBefore {
		t.Errorf("the LXC config changed:\n%s", got)
	}
	if got := readFile(t, filepath.Join(h.lxcpath, "web", "reinstall.conf")); !strings.Contains(got, `OSTEMPLATE="`+testenv.DefaultTemplate+`"`) {
		t.Errorf("the settings file does not remember -t:\n%s", got)
	}
	h.assertLXCClean()

	// The template is remembered; ct commands go through LXC.
	must(t, os.Remove(h.Path("etc/vz/conf/vps.reinstall")))
	if r := h.lxc("--stop", "--skipbackup", "web"); r.code != 0 {
		t.Fatalf("second reinstall without -t: exit %d\n%s", r.code, r.stderr)
	}
	if exists(h.rootfs("old")) || exists(h.rootfs("configured")) {
		t.Error("--skipbackup kept the old files")
	}
	if r := h.lxc("ct", "exec", "web", "--", "/bin/sh", "-c", "echo $VEID; exit 7"); r.code != 7 {
		t.Errorf("ct exec: exit %d, want 7\n%s", r.code, r.stderr)
	}
	if out := h.lxc("ct", "status", "web"); strings.TrimSpace(out.stdout) != "running" {
		t.Errorf("ct status: %q", out.stdout)
	}
	if r := h.lxc("ct", "stop", "web"); r.code != 0 || h.state() != "STOPPED" {
		t.Errorf("ct stop: exit %d, LXC says %s\n%s", r.code, h.state(), r.stderr)
	}
	h.assertLXCClean()
}

func TestLXCReinstallSkipBackup(t *testing.T) {
	h := newLXCHost(t)
	if r := h.lxc("--skipbackup", "-t", testenv.DefaultTemplate, "web"); r.code != 0 {
		t.Fatalf("reinstall: exit %d\n%s", r.code, r.stderr)
	}
	if exists(h.rootfs("old")) || exists(h.rootfs("home/customer/notes.txt")) {
		t.Error("--skipbackup kept the old files")
	}
	if st := h.state(); st != "RUNNING" {
		t.Errorf("LXC says %s, want RUNNING", st)
	}
	h.assertLXCClean()
}

func TestLXCNeedsTemplateFirst(t *testing.T) {
	h := newLXCHost(t)
	r := h.lxc("web")
	if r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), "no OSTEMPLATE") {
		t.Errorf("exit %d, want %d asking for -t\n%s", r.code, engine.ExitRefused, r.stderr)
	}
}

func TestLXCConfigureFailureRollsBack(t *testing.T) {
	h := newLXCHost(t)
	h.startLXC()
	before, err := testenv.HashTree(h.rootfs(""))
	must(t, err)
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "echo configuring; exit 3\n", 0o644)
	r := h.lxc("--stop", "-t", testenv.DefaultTemplate, "web")
	if r.code != engine.ExitFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, engine.ExitFailed, r.stderr)
	}
	if st := h.state(); st != "RUNNING" {
		t.Errorf("after the rollback LXC says %s, want RUNNING (as it was)", st)
	}
	after, err := testenv.HashTree(h.rootfs(""))
	must(t, err)
	assertTree(t, "the rolled back rootfs", withoutBootFiles(before), withoutBootFiles(after))
	if exists(filepath.Join(h.lxcpath, "web", "reinstall.conf")) {
		t.Error("a rolled back run remembered its -t")
	}
	h.assertLXCClean()
}

func TestLXCKilledRunRecovers(t *testing.T) {
	h := newLXCHost(t)
	h.startLXC()
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "touch /configuring; sleep 60\n", 0o644)
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--runtime", "lxc", "--lxcpath", h.lxcpath,
		"--stop", "-t", testenv.DefaultTemplate, "web")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 10 * time.Second
	must(t, cmd.Start())
	waitFor(t, "vps.configure to run inside", func() bool { return exists(h.rootfs("configuring")) })
	must(t, cmd.Process.Kill())
	cmd.Wait()

	if r := h.lxc("status", "web"); !strings.HasPrefix(r.stdout, "container web: unfinished reinstall") {
		t.Errorf("status after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.lxc("web"); r.code != engine.ExitRecover {
		t.Errorf("a run after the kill: exit %d, want %d\n%s", r.code, engine.ExitRecover, r.stderr)
	}
	r := h.lxc("recover", "web")
	if r.code != 0 {
		t.Fatalf("recover: exit %d\n%s\nthe killed run:\n%s", r.code, r.stderr, stderr.String())
	}
	if st := h.state(); st != "RUNNING" {
		t.Errorf("after recover LXC says %s, want RUNNING", st)
	}
	if got := readFile(t, h.rootfs("home/customer/notes.txt")); got != "precious data\n" {
		t.Errorf("after recover the customer's file is %q", got)
	}
	h.assertLXCClean()
}

// withoutBootFiles drops what the LXC busybox OS writes as it boots
// (syslog, pid files, utmp): a restarted container rewrites them.
func withoutBootFiles(tree testenv.Tree) testenv.Tree {
	out := testenv.Tree{}
	for p, v := range tree {
		if !strings.HasPrefix(p, "var/log/") && !strings.HasPrefix(p, "var/run/") {
			out[p] = v
		}
	}
	return out
}
