package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// TestCTEnter drives `ct enter` through a pseudo-terminal as an operator
// would: the shell runs inside the container (its hostname, its files),
// reads what is typed and exits with its own status. Without a terminal
// it refuses (exit 2) and names ct exec.
func TestCTEnter(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.mustCLI("ct", "start", "101")

	cmd := exec.Command(os.Args[0], "--root", h.Root, "ct", "enter", "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	must(t, err)
	defer tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&out, tty); close(copied) }()
	// Typed ahead: the terminal keeps it until the shell reads.
	_, err = io.WriteString(tty, "[ -t 0 ] && tty=on-a-terminal\necho \"in-$((6*7)) $(hostname) $(cat /home/customer/notes.txt) $tty\"\nexit 3\n")
	must(t, err)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("ct enter did not end; it printed:\n%s", out.String())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		tty.Close()
		<-copied
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("ct enter: exit %d, want the shell's 3\n%s", code, out.String())
	}
	if want := "in-42 ct101.example precious data on-a-terminal"; !strings.Contains(out.String(), want) {
		t.Errorf("the shell's output lacks %q:\n%s", want, out.String())
	}

	r := h.cli("ct", "enter", "101")
	if r.code != engine.ExitRefused || !strings.Contains(r.stderr, "ct enter needs a terminal") {
		t.Errorf("ct enter without a terminal: exit %d\n%s", r.code, r.stderr)
	}
}

// TestCTUnknownCommand: ct with an unknown or no subcommand is a usage
// error (exit 2) naming the known ones.
func TestCTUnknownCommand(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	for _, args := range [][]string{{"ct", "bogus", "101"}, {"ct"}} {
		r := h.cli(args...)
		if r.code != engine.ExitRefused {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	if r := h.cli("ct", "bogus"); !strings.Contains(r.stderr, `unknown command "bogus": use one of create, destroy, enter, exec, list, start, status, stop`) {
		t.Errorf("ct bogus:\n%s", r.stderr)
	}
}

// TestCTCreateOnEmptyRoot: on a --root with nothing in it, ct create says
// which template is missing and where it looked; with only a template
// cache, it creates the configuration directories it needs, and the
// container starts.
func TestCTCreateOnEmptyRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	h := &testHost{Host: &testenv.Host{Root: root}, t: t}
	r := h.cli("ct", "create", "101", "--ostemplate", "busybox")
	if r.code != engine.ExitRefused || !strings.Contains(r.stderr, `OS template not found: "busybox" (tried `+root+"/vz/template/cache/busybox.tar,") ||
		!strings.Contains(r.stderr, "make demo-host") {
		t.Errorf("ct create without a template: exit %d\n%s", r.code, r.stderr)
	}
	rootfs := t.TempDir()
	must(t, testenv.BuildRootfs(rootfs, "fresh.example"))
	_, err := testenv.PackTemplate(rootfs, filepath.Join(root, "vz/template/cache"), "busybox", ".tar.gz")
	must(t, err)
	h.mustCLI("ct", "create", "101", "--ostemplate", "busybox", "--name", "web")
	if !exists(filepath.Join(root, "etc/vz/conf/101.conf")) || !exists(filepath.Join(root, "vz/private/101/bin/busybox")) {
		t.Fatal("ct create made no config or private area")
	}
	h.mustCLI("ct", "start", "web")
	t.Cleanup(func() { h.cli("ct", "stop", "web") })
	if got := h.status(); got != "running" {
		t.Errorf("status %q after ct start", got)
	}
}

// TestCTDestroy: a running container is refused (exit 32); a stopped one
// loses its private area, root directory and name, and its config is kept
// as <CTID>.conf.destroyed.
func TestCTDestroy(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	if err := h.WriteConfig(101, testenv.ConfigBody("ct101.example")); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("ct", "create", "101", "--ostemplate", testenv.DefaultTemplate, "--name", "web")
	h.mustCLI("ct", "start", "web")
	if r := h.cli("ct", "destroy", "web"); r.code != engine.ExitRunning || !strings.Contains(r.stderr, "stop it first") {
		t.Errorf("ct destroy of a running container: exit %d\n%s", r.code, r.stderr)
	}
	if !exists(h.private("etc")) {
		t.Fatal("the refused destroy removed the private area")
	}
	h.mustCLI("ct", "stop", "web")
	r := h.mustCLI("ct", "destroy", "web")
	if r.stdout != "container 101 destroyed\n" {
		t.Errorf("ct destroy printed %q", r.stdout)
	}
	for _, gone := range []string{"vz/private/101", "vz/root/101", "etc/vz/names/web", "etc/vz/conf/101.conf"} {
		if exists(h.Path(gone)) {
			t.Errorf("%s is left after ct destroy", gone)
		}
	}
	if left, _ := filepath.Glob(h.Path("vz/private/101.*")); len(left) > 0 {
		t.Errorf("left beside the private area: %v", left)
	}
	if !exists(h.Path("etc/vz/conf/101.conf.destroyed")) {
		t.Error("the config was not kept as 101.conf.destroyed")
	}
	if r := h.cli("ct", "status", "101"); r.code == 0 {
		t.Errorf("ct status of a destroyed container: exit 0\n%s", r.stdout)
	}
}

// TestDemoHost: scripts/demo-host.sh (make demo-host) leaves a host whose
// container web runs, and a second run keeps it.
func TestDemoHost(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "demo")
	h := &testHost{Host: &testenv.Host{Root: root}, t: t}
	t.Cleanup(func() { h.cli("ct", "stop", "web") })
	for i := 0; i < 2; i++ {
		cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "demo-host.sh"), root)
		cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "BIN="+os.Args[0])
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("demo-host.sh (run %d): %v\n%s", i+1, err, out)
		}
		if !strings.Contains(string(out), "A demo host is ready under "+root) {
			t.Errorf("demo-host.sh printed:\n%s", out)
		}
	}
	if got := strings.TrimSpace(h.mustCLI("ct", "status", "web").stdout); got != "running" {
		t.Errorf("web is %q on the demo host", got)
	}
	if got := h.exec("cat /etc/motd"); got != "fresh busybox template\n" {
		t.Errorf("web's /etc/motd: %q", got)
	}
}
