package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// The real vzctl tests drive the legacy OpenVZ vzctl 4.11.1 that
// scripts/vzctl-real.sh builds (testenv.RealVzctl), in its upstream-kernel
// mode, and this reinstall binary with --root / and --runtime vzctl. Both
// run inside one private mount namespace where vzctl's own configuration
// directory (<prefix>/etc/vz) is bound on /etc/vz, so reinstall reads the
// vz.conf and <CTID>.conf vzctl reads, and a tmpfs covers /var/log, so
// reinstall's logs stay out of the host's. The container's areas and the
// hooks live in the test's temporary directory.

// vzctlTemplate is the busybox template the vzctl build script caches.
const vzctlTemplate = "busybox-1.35-x86_64"

type vzctlHost struct {
	t      *testing.T
	vzctl  string // the real vzctl binary
	prefix string // its installation prefix (etc/vz, vz/lock, ...)
	dir    string // the test's directory: areas, hooks, pipeline
	ctid   int
	nsPID  int // the process holding the mount namespace
}

// newVzctlHost creates, with the real vzctl, a container from its busybox
// template whose private and root areas are in a temporary directory,
// holding a customer's file. It is not started.
func newVzctlHost(t *testing.T) *vzctlHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests need root (vzctl, namespaces, mounts); run them as root")
	}
	vz := testenv.RealVzctl(t)
	h := &vzctlHost{t: t, vzctl: vz, prefix: filepath.Dir(filepath.Dir(vz)), dir: t.TempDir()}
	h.enterNamespace()
	for {
		h.ctid = 40000 + rand.IntN(50000)
		if !exists(filepath.Join(h.prefix, "etc/vz/conf", strconv.Itoa(h.ctid)+".conf")) {
			break
		}
	}
	id := strconv.Itoa(h.ctid)
	t.Cleanup(func() {
		h.vz("--quiet", "stop", id, "--fast")
		h.vz("--quiet", "destroy", id)
		// vzctl destroy keeps the config as <CTID>.conf.destroyed.
		os.Remove(filepath.Join(h.prefix, "etc/vz/conf", id+".conf.destroyed"))
	})
	if out, err := h.vz("--quiet", "create", id, "--ostemplate", vzctlTemplate,
		"--private", h.private(""), "--root", filepath.Join(h.dir, "root", id)); err != nil {
		t.Fatalf("vzctl create: %v\n%s", err, out)
	}
	// The bounding set of these hosts lacks CAP_SYS_RESOURCE, which vzctl
	// would otherwise keep for the container (and fail to).
	conf := filepath.Join(h.prefix, "etc/vz/conf", id+".conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("CAPABILITY=\"SYS_RESOURCE:off\"\n")
	must(t, errors.Join(err, f.Close()))
	h.writePrivate("home/customer/notes.txt", "precious data\n")
	return h
}

// enterNamespace starts the process that holds the test's mount namespace.
func (h *vzctlHost) enterNamespace() {
	h.t.Helper()
	// The mount point, an empty directory, on the host (where vzctl would
	// have its /etc/vz); it stays, as another test may be using it.
	must(h.t, os.MkdirAll("/etc/vz", 0o755))
	script := "mount --bind " + shellQuoteTest(filepath.Join(h.prefix, "etc/vz")) + " /etc/vz && " +
		"mount -t tmpfs tmpfs /var/log && echo ready && exec sleep 1000000"
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "--", "/bin/sh", "-c", script)
	out, err := cmd.StdoutPipe()
	must(h.t, err)
	cmd.Stderr = os.Stderr
	must(h.t, cmd.Start())
	h.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		h.t.Fatalf("the mount namespace for vzctl: %q", line)
	}
	h.nsPID = cmd.Process.Pid
}

// inNamespace is a command running argv in the test's mount namespace.
func (h *vzctlHost) inNamespace(argv ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(h.nsPID), "-m", "--"}, argv...)...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(h.prefix, "sbin")+":"+os.Getenv("PATH"))
	return cmd
}

// vz runs the real vzctl and returns its combined output.
func (h *vzctlHost) vz(args ...string) (string, error) {
	out, err := h.inNamespace(append([]string{h.vzctl}, args...)...).CombinedOutput()
	return string(out), err
}

// vzStatus is what vzctl itself says of the container: "running",
// "down", ... (the status line's last word) and whether it is mounted.
func (h *vzctlHost) vzStatus() string {
	h.t.Helper()
	out, err := h.vz("--quiet", "status", strconv.Itoa(h.ctid))
	if err != nil {
		h.t.Fatalf("vzctl status: %v\n%s", err, out)
	}
	f := strings.Fields(out)
	if len(f) < 5 {
		h.t.Fatalf("vzctl status: %q", out)
	}
	return f[3] + " " + f[4]
}

// cli runs reinstall --root / --runtime vzctl with args.
func (h *vzctlHost) cli(args ...string) result {
	h.t.Helper()
	self, err := os.Executable()
	must(h.t, err)
	cmd := h.inNamespace(append([]string{self, "--root", "/", "--runtime", "vzctl", "--stop-timeout", "30s"}, args...)...)
	cmd.Env = append(cmd.Env, "REINSTALL_TEST_CLI=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run reinstall %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func (h *vzctlHost) mustCLI(args ...string) result {
	h.t.Helper()
	r := h.cli(args...)
	if r.code != 0 {
		h.t.Fatalf("reinstall %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (h *vzctlHost) id() string { return strconv.Itoa(h.ctid) }

func (h *vzctlHost) private(rel string) string {
	return filepath.Join(h.dir, "private", h.id(), rel)
}

func (h *vzctlHost) writePrivate(rel, content string) {
	h.t.Helper()
	must(h.t, os.MkdirAll(filepath.Dir(h.private(rel)), 0o755))
	must(h.t, os.WriteFile(h.private(rel), []byte(content), 0o644))
}

// pipeline writes the stock pipeline with its vps.reinstall and
// vps.configure in the test's directory (vzctl's /etc/vz/conf is shared by
// every container of the build) and the two scripts, and returns its path.
func (h *vzctlHost) pipeline(reinstallBody, configureBody string) string {
	h.t.Helper()
	src := readFile(h.t, filepath.Join("..", "..", "pipeline", "default.hcl"))
	src = strings.ReplaceAll(src, "/etc/vz/conf/", h.dir+"/")
	if strings.Count(src, h.dir+"/vps.") != 2 {
		h.t.Fatalf("pipeline/default.hcl does not name /etc/vz/conf/vps.reinstall and vps.configure")
	}
	must(h.t, os.WriteFile(filepath.Join(h.dir, "vps.reinstall"), []byte(reinstallBody), 0o755))
	must(h.t, os.WriteFile(filepath.Join(h.dir, "vps.configure"), []byte(configureBody), 0o644))
	p := filepath.Join(h.dir, "pipeline.hcl")
	must(h.t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

// assertClean: no temporary, parked or trash area beside the private
// area, and no lock or journal in vzctl's LOCKDIR.
func (h *vzctlHost) assertClean() {
	h.t.Helper()
	left, _ := filepath.Glob(h.private("") + ".*")
	for _, ext := range []string{".lck", ".journal"} {
		if p := filepath.Join(h.prefix, "vz/lock", h.id()+ext); exists(p) {
			left = append(left, p)
		}
	}
	if len(left) > 0 {
		h.t.Errorf("left behind: %v", left)
	}
}

// TestRealVzctlCTCommands: reinstall's ct commands drive the real vzctl:
// start, status, exec (its output is the command's alone, its exit code
// the command's), list and stop, each checked against vzctl's own status.
func TestRealVzctlCTCommands(t *testing.T) {
	h := newVzctlHost(t)
	h.mustCLI("ct", "start", h.id())
	if st := h.vzStatus(); st != "mounted running" {
		t.Fatalf("vzctl status after ct start: %q", st)
	}
	if r := h.mustCLI("ct", "status", h.id()); r.stdout != "running\n" {
		t.Errorf("ct status = %q, want running", r.stdout)
	}
	r := h.cli("ct", "exec", h.id(), "--", "/bin/sh", "-c", `echo "it's $HOME $(cat /home/customer/notes.txt)"; exit 7`)
	if r.code != 7 || r.stdout != "it's / precious data\n" {
		t.Errorf("ct exec: exit %d, stdout %q; want exit 7 and only the command's output\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var rows []ctRow
	must(t, json.Unmarshal([]byte(h.mustCLI("ct", "list", "--json").stdout), &rows))
	found := false
	for _, row := range rows {
		if row.CTID == h.ctid {
			found = true
			if row.State != "running" || row.OSTemplate != vzctlTemplate || row.Private != h.private("") {
				t.Errorf("ct list row %+v", row)
			}
		}
	}
	if !found {
		t.Errorf("ct list lacks container %d: %+v", h.ctid, rows)
	}
	h.mustCLI("ct", "stop", h.id())
	if st := h.vzStatus(); st != "unmounted down" {
		t.Errorf("vzctl status after ct stop: %q", st)
	}
	if r := h.mustCLI("ct", "status", h.id()); r.stdout != "stopped\n" {
		t.Errorf("ct status = %q, want stopped", r.stdout)
	}
	if r := h.cli("ct", "exec", h.id(), "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("ct exec in a stopped container: exit %d\n%s", r.code, r.stderr)
	}
	h.assertClean()
}

// TestRealVzctlReinstallStop reinstalls a running container with --stop
// through the real vzctl: it is stopped and started by vzctl, the customer's
// files are at /old, vps.reinstall got the contract's arguments and
// vps.configure ran inside through vzctl exec2, its output free of vzctl's
// own notices.
func TestRealVzctlReinstallStop(t *testing.T) {
	h := newVzctlHost(t)
	h.mustCLI("ct", "start", h.id())
	args := filepath.Join(h.dir, "hook-args")
	p := h.pipeline("#!/bin/sh\necho \"$VEID $*\" > "+args+"\nexit 0\n",
		"echo \"$VEID $(cat /old/home/customer/notes.txt)\" > /configured\necho configure-output\n")

	r := h.mustCLI("--pipeline", p, "--stop", h.id())
	if st := h.vzStatus(); st != "mounted running" {
		t.Errorf("vzctl status after the reinstall: %q", st)
	}
	want := fmt.Sprintf("%d --veid %d --ve_private_tmp %s --ve_private %s\n", h.ctid, h.ctid, h.private("")+".reinstall", h.private(""))
	if got := readFile(t, args); got != want {
		t.Errorf("vps.reinstall got %q, want %q", got, want)
	}
	if got := readFile(t, h.private("configured")); got != h.id()+" precious data\n" {
		t.Errorf("vps.configure wrote %q", got)
	}
	if got := readFile(t, h.private("old/home/customer/notes.txt")); got != "precious data\n" {
		t.Errorf("/old/home/customer/notes.txt = %q", got)
	}
	if exists(h.private("home/customer")) {
		t.Error("the new area has the customer's home outside /old")
	}
	if !strings.Contains(r.stderr, "vps-configure: configure-output") || strings.Contains(r.stderr, "/proc/vz") {
		t.Errorf("the run's output: want vps.configure's line and none of vzctl's notices:\n%s", r.stderr)
	}
	if got := h.mustCLI("ct", "exec", h.id(), "--", "cat", "/old/home/customer/notes.txt").stdout; got != "precious data\n" {
		t.Errorf("/old inside the new container: %q", got)
	}
	h.mustCLI("ct", "stop", h.id())
	h.assertClean()
}

// TestRealVzctlConfigureFailureRollsBack: vps.configure fails inside the new
// container, started by vzctl; the run stops it with vzctl, puts the old
// area back byte for byte and starts the old container again.
func TestRealVzctlConfigureFailureRollsBack(t *testing.T) {
	h := newVzctlHost(t)
	h.mustCLI("ct", "start", h.id())
	before, err := testenv.HashTree(h.private(""))
	must(t, err)
	p := h.pipeline("#!/bin/sh\nexit 0\n", "ls /old >/dev/null\necho failing >&2\nexit 1\n")

	r := h.cli("--pipeline", p, "--stop", h.id())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if want := "reinstall: vps-configure: vps.configure exited with status 1"; !strings.HasPrefix(r.lastLine(), want) {
		t.Errorf("last line %q, want prefix %q", r.lastLine(), want)
	}
	after, err := testenv.HashTree(h.private(""))
	must(t, err)
	// The template has no device nodes, and vzctl's own start (in the old
	// container, started again) writes to /dev/null: a regular file there.
	delete(before, "dev/null")
	delete(after, "dev/null")
	assertTree(t, "the private area", before, after)
	if st := h.vzStatus(); st != "mounted running" {
		t.Errorf("vzctl status after the rollback: %q, want the old container running", st)
	}
	if got := h.mustCLI("ct", "exec", h.id(), "--", "cat", "/home/customer/notes.txt").stdout; got != "precious data\n" {
		t.Errorf("the old container after the rollback: notes.txt = %q", got)
	}
	h.mustCLI("ct", "stop", h.id())
	h.assertClean()
}

// shellQuoteTest quotes a word for sh.
func shellQuoteTest(w string) string { return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'" }

// TestRealVzctlKilledRunRecovers: reinstall SIGKILLed while vps.configure
// runs inside the new container through the real vzctl; recover stops it
// with vzctl, puts the old area back and starts the old container again.
func TestRealVzctlKilledRunRecovers(t *testing.T) {
	h := newVzctlHost(t)
	h.mustCLI("ct", "start", h.id())
	p := h.pipeline("#!/bin/sh\nexit 0\n", "touch /configuring; sleep 60\n")
	self, err := os.Executable()
	must(t, err)
	run := h.inNamespace(self, "--root", "/", "--runtime", "vzctl", "--stop-timeout", "30s", "--pipeline", p, "--stop", h.id())
	run.Env = append(run.Env, "REINSTALL_TEST_CLI=1")
	var stderr bytes.Buffer
	run.Stderr = &stderr
	must(t, run.Start())
	waited := make(chan struct{})
	go func() { run.Wait(); close(waited) }()
	waitForLong(t, "vps.configure to run inside", func() bool { return exists(h.private("configuring")) })
	must(t, run.Process.Kill()) // nsenter execs reinstall itself: this is the run
	<-waited

	r := h.cli("recover", h.id())
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Fatalf("recover: exit %d, %q\n%s\nthe killed run:\n%s", r.code, r.stdout, r.stderr, stderr.String())
	}
	if st := h.vzStatus(); st != "mounted running" {
		t.Errorf("vzctl status after recover: %q, want the old container running", st)
	}
	if got := readFile(t, h.private("home/customer/notes.txt")); got != "precious data\n" || exists(h.private("configuring")) {
		t.Errorf("after recover the private area is not the old one (notes.txt %q)", got)
	}
	h.mustCLI("ct", "stop", h.id())
	h.assertClean()
}

// waitForLong is waitFor with a minute: a reinstall through vzctl reaches
// vps.configure in seconds, a loaded CI machine gets longer.
func waitForLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
