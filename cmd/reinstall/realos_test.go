package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// The real-OS tests boot the Debian 12 systemd template
// (testenv.DebianTemplate) in the native runtime. Each takes a few seconds
// of booting and stopping a real systemd, so there are few of them.

// stopMarkerUnit is a unit whose ExecStop writes /var/tmp/stop-marker: it
// runs only if systemd stops the services, not when the container is killed.
const stopMarkerUnit = `[Unit]
Description=writes a marker when stopped
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'echo stopped-by-systemd > /var/tmp/stop-marker'
[Install]
WantedBy=multi-user.target
`

// newDebianHost is a test host whose container 101 is made from the Debian
// template, with the stop-marker unit enabled; it is not started.
func newDebianHost(t *testing.T) *testHost {
	t.Helper()
	h := newTestHost(t)
	name := h.AddDebianTemplate(t)
	if err := h.WriteConfig(101, "OSTEMPLATE=\""+name+"\"\nHOSTNAME=\"deb101.example\"\n"); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("ct", "create", "101", "--ostemplate", name)
	h.installStopMarker()
	return h
}

// installStopMarker enables the stop-marker unit in container 101's area.
func (h *testHost) installStopMarker() {
	h.t.Helper()
	h.writePrivate("etc/systemd/system/stop-marker.service", stopMarkerUnit, 0o644)
	link := h.private("etc/systemd/system/multi-user.target.wants/stop-marker.service")
	os.Remove(link)
	if err := os.Symlink("/etc/systemd/system/stop-marker.service", link); err != nil {
		h.t.Fatal(err)
	}
}

// waitSystemRunning waits until systemd in container 101 says running or
// degraded (a unit failed, the system is up), and fails the test otherwise.
func (h *testHost) waitSystemRunning() {
	h.t.Helper()
	var state string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		r := h.cli("ct", "exec", "101", "--", "systemctl", "is-system-running")
		state = strings.TrimSpace(r.stdout)
		if state == "running" || state == "degraded" {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	h.t.Fatalf("systemd in container 101 is %q, not running", state)
}

// consoleLog is container 101's console log of the native runtime.
func (h *testHost) consoleLog() string {
	h.t.Helper()
	data, _ := os.ReadFile(h.Path("run/reinstall/ct/101.log"))
	return string(data)
}

func TestRealOSStopRunsExecStop(t *testing.T) {
	h := newDebianHost(t)
	h.mustCLI("ct", "start", "101")
	h.waitSystemRunning()
	h.mustCLI("--stop-timeout", "90s", "ct", "stop", "101")

	if got := readFile(t, h.private("var/tmp/stop-marker")); got != "stopped-by-systemd\n" {
		t.Errorf("the unit's ExecStop wrote %q", got)
	}
	log := h.consoleLog()
	for _, want := range []string{"SIGRTMIN+3 to systemd", "container 101 stopped cleanly"} {
		if !strings.Contains(log, want) {
			t.Errorf("console log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "SIGKILL") {
		t.Errorf("the stop fell back to SIGKILL:\n%s", log)
	}
	if st := h.status(); st != "stopped" {
		t.Errorf("status %q after ct stop", st)
	}
}

func TestRealOSReinstallStopKeepsOldAndAccounts(t *testing.T) {
	h := newDebianHost(t)
	h.mustCLI("ct", "start", "101")
	h.waitSystemRunning()
	// A customer: an account with a password, and files in its home.
	const hash = `$6$saltsalt$4NP3b0AiPDbD0ilb5cqE7Gz0d0OT2Fq5Q1yrqA3S0V7yWpQ2nZbVQW6o0cqW0W5cJ8sYQyIYH2wGk7kK4LQ9v/`
	h.mustCLI("ct", "exec", "101", "--", "useradd", "-m", "-u", "1500", "-s", "/bin/bash", "-p", hash, "alice")
	h.exec("echo 'precious data' > /home/alice/notes.txt && chown alice:alice /home/alice/notes.txt")
	before := h.tree("home")

	r := h.mustCLI("--stop-timeout", "90s", "--json", "--stop", "101")
	var stopLines []string
	for _, ev := range parseEvents(t, r.stdout) {
		if ev.Type == "stage-log" && ev.Stage == "swap" {
			stopLines = append(stopLines, ev.Message)
		}
	}
	joined := strings.Join(stopLines, "\n")
	if !strings.Contains(joined, "SIGRTMIN+3 to systemd") || !strings.Contains(joined, "stopped cleanly") || strings.Contains(joined, "SIGKILL") {
		t.Errorf("the swap stage's log does not show a clean stop:\n%s", joined)
	}
	if got := readFile(t, h.private("old/var/tmp/stop-marker")); got != "stopped-by-systemd\n" {
		t.Errorf("the old container's ExecStop wrote %q", got)
	}
	assertTree(t, "/old/home", before, h.tree("old/home"))
	if exists(h.private("home/alice/notes.txt")) {
		t.Error("the new container has the old home's files outside /old")
	}
	if !strings.Contains(readFile(t, h.private("etc/passwd")), "alice:x:1500:1500::/home/alice:/bin/bash\n") {
		t.Errorf("alice's passwd line was not merged:\n%s", readFile(t, h.private("etc/passwd")))
	}
	if !strings.Contains(readFile(t, h.private("etc/shadow")), "alice:"+hash+":") {
		t.Errorf("alice's password was not kept:\n%s", readFile(t, h.private("etc/shadow")))
	}
	h.waitSystemRunning()
	if got := h.exec("cat /old/home/alice/notes.txt"); got != "precious data\n" {
		t.Errorf("/old/home/alice/notes.txt inside the new container: %q", got)
	}
	h.assertClean()
}

// TestRealOSPasswordsAcrossTemplates reinstalls a Debian container with
// a busybox without /etc/shadow and then with Debian again: the customer's
// password cannot survive the first, and each run says so as a warning on
// the terminal, in its log file and as a --json event, never silently.
func TestRealOSPasswordsAcrossTemplates(t *testing.T) {
	h := newDebianHost(t)
	const hash = `$6$saltsalt$4NP3b0AiPDbD0ilb5cqE7Gz0d0OT2Fq5Q1yrqA3S0V7yWpQ2nZbVQW6o0cqW0W5cJ8sYQyIYH2wGk7kK4LQ9v/`
	appendPrivate := func(rel, line string) {
		f, err := os.OpenFile(h.private(rel), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteString(line)
		must(t, errors.Join(err, f.Close()))
	}
	appendPrivate("etc/passwd", "alice:x:1500:1500::/home/alice:/bin/bash\n")
	appendPrivate("etc/shadow", "alice:"+hash+":19600:0:99999:7:::\n")
	appendPrivate("etc/group", "alice:x:1500:\n")

	// A busybox template without /etc/shadow (as LXC's and vzctl's are).
	rootfs := t.TempDir()
	must(t, testenv.BuildRootfs(rootfs, "busybox.example"))
	must(t, os.Remove(filepath.Join(rootfs, "etc/shadow")))
	_, err := testenv.PackTemplate(rootfs, h.Path("vz/template/cache"), "busybox-noshadow", ".tar.gz")
	must(t, err)

	// Debian -> busybox: the hash has nowhere to go.
	r := h.mustCLI("--json", "--no-health", "--ostemplate", "busybox-noshadow", "101")
	const lost = "/etc/shadow: the new container has none, so the password of the old container's user alice cannot be kept"
	var warned bool
	var logFile string
	for _, ev := range parseEvents(t, r.stdout) {
		if ev.Type == "stage-log" && ev.Stage == "credentials" && ev.Level == "warn" && strings.Contains(ev.Message, lost) {
			warned = true
		}
		if ev.LogFile != "" {
			logFile = ev.LogFile
		}
	}
	if !warned {
		t.Errorf("no --json warn event %q:\n%s", lost, r.stdout)
	}
	if logFile == "" || !strings.Contains(readFile(t, logFile), "alice cannot be kept") {
		t.Errorf("the run's log file %q does not carry the warning", logFile)
	}
	if strings.Contains(readFile(t, h.private("etc/passwd")), hash) || exists(h.private("etc/shadow")) {
		t.Error("the hash was moved somewhere in the busybox container")
	}

	// busybox -> Debian: alice's passwd line says "x", with no shadow behind.
	r = h.mustCLI("--no-health", "--stop", "--ostemplate", testenv.DebianTemplateName, "101")
	const none = "/etc/shadow: the old container has none, though its /etc/passwd says the password of user alice is there"
	if !strings.Contains(r.stderr, none) {
		t.Errorf("the terminal output lacks %q:\n%s", none, r.stderr)
	}
	if !strings.Contains(readFile(t, h.private("etc/passwd")), "alice:x:1500:1500::/home/alice:/bin/bash\n") {
		t.Errorf("alice's account was not kept:\n%s", readFile(t, h.private("etc/passwd")))
	}
}

// newStopMarkerHook is a vps.reinstall (custom mode) that enables, in the
// new area, a unit whose ExecStop writes /old/var/tmp/new-stopped: into the
// old area, which a rollback brings back, so the host sees whether the new
// systemd stopped its services.
const newStopMarkerHook = `#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in --ve_private_tmp) NEW=$2; shift ;; esac
  shift
done
cat > "$NEW/etc/systemd/system/new-stop-marker.service" <<'UNIT'
[Unit]
Description=writes a marker into /old when stopped
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'echo stopped-by-systemd > /old/var/tmp/new-stopped'
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/new-stop-marker.service "$NEW/etc/systemd/system/multi-user.target.wants/"
exit 0
`

// waitSystemd is a shell loop waiting until systemd says the system is up
// (its bus comes up a moment after its start: is-system-running --wait
// fails until then).
const waitSystemd = `while :; do
  case "$(systemctl is-system-running 2>/dev/null)" in running|degraded) break ;; esac
  sleep 0.2
done
`

// assertNewStoppedCleanly checks that the console log shows systemd asked to
// halt and no SIGKILL, and that the new container's ExecStop ran.
func (h *testHost) assertNewStoppedCleanly() {
	h.t.Helper()
	if got, _ := os.ReadFile(h.private("var/tmp/new-stopped")); string(got) != "stopped-by-systemd\n" {
		h.t.Errorf("the new container's ExecStop wrote %q", got)
	}
	log := h.consoleLog()
	if !strings.Contains(log, "SIGRTMIN+3 to systemd") || !strings.Contains(log, "stopped cleanly") || strings.Contains(log, "SIGKILL") {
		h.t.Errorf("the console log does not show clean stops only:\n%s", log)
	}
}

// TestRealOSRollbackStopsNewSystemdCleanly: vps.configure fails once the
// new systemd is up; the rollback stops it the way systemd expects (its
// units' ExecStop run) before the old area goes back.
func TestRealOSRollbackStopsNewSystemdCleanly(t *testing.T) {
	h := newDebianHost(t)
	h.writeScript("vps.reinstall", newStopMarkerHook, 0o755)
	h.writeScript("vps.configure", waitSystemd+"exit 1\n", 0o644)
	r := h.cli("--stop-timeout", "90s", "101")
	if r.code != 1 || !strings.HasPrefix(r.lastLine(), "reinstall: vps-configure: vps.configure exited with status 1") {
		t.Fatalf("exit %d, want 1 from vps.configure\n%s", r.code, r.stderr)
	}
	h.assertNewStoppedCleanly()
	if st := h.status(); st != "stopped" {
		t.Errorf("status %q after the rollback, want stopped (as before)", st)
	}
	h.assertClean()
}

// TestRealOSRecoverStopsNewSystemdCleanly: reinstall SIGKILLed while
// vps.configure runs in the new, booted systemd container; recover rolls
// back and stops that container the way systemd expects (the shutdown
// stops the orphaned vps.configure, and with it its nsenter on the host,
// which the stop resumes: see TestStopWithStoppedExec).
func TestRealOSRecoverStopsNewSystemdCleanly(t *testing.T) {
	h := newDebianHost(t)
	h.writeScript("vps.reinstall", newStopMarkerHook, 0o755)
	h.writeScript("vps.configure", waitSystemd+"touch /old/var/tmp/configure-waiting\nexec sleep 100000\n", 0o644)
	h.killDuring(func() bool { return exists(h.private("old/var/tmp/configure-waiting")) }, "--stop-timeout", "90s", "101")
	r := h.cli("--stop-timeout", "90s", "recover", "101")
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Fatalf("recover: exit %d, %q, want a rollback\n%s", r.code, r.stdout, r.stderr)
	}
	h.assertNewStoppedCleanly()
	if st := h.status(); st != "stopped" {
		t.Errorf("status %q after recover, want stopped (as before)", st)
	}
	h.assertClean()
}
