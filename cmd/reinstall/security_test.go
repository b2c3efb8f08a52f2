package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// The security suite (contract §6): a private area full of tricks aimed at
// host files, reinstalled in every mode, rolled back and recovered; canaries
// outside it prove that nothing there was read, written or deleted.

// hostileOutcome is what a run must leave.
type hostileOutcome int

const (
	newKeepOld   hostileOutcome = iota // reinstalled, the old area at /old as it was
	newDeleteOld                       // reinstalled, the old area deleted
	oldAsItWas                         // rolled back or recovered: the old area byte for byte, stopped
)

// hostileMode is one way to run a reinstall over a hostile private area.
type hostileMode struct {
	name       string
	skipbackup bool
	hook       string // vps.reinstall's exit line; "" runs no script (default mode)
	configure  string // vps.configure; "" for none
	siteStage  string // a site configure stage's script, run in both modes
	keepPaths  string // run examples/pipelines/keep-paths.hcl with this --var keep=[...]
	killWhen   string // SIGKILL the reinstall once this file is in the private area, then recover
	code       int
	want       hostileOutcome
}

var hostileModes = []hostileMode{
	{name: "default", want: newKeepOld},
	{name: "default+skipbackup", skipbackup: true, want: newDeleteOld},
	{name: "custom", hook: "exit 0", want: newKeepOld},
	{name: "custom+skipbackup", hook: "exit 0", skipbackup: true, want: newDeleteOld},
	// vps.configure fails: /old goes back into place.
	{name: "rollback", hook: "exit 0", configure: "exit 3\n", code: 1, want: oldAsItWas},
	// default mode with --skipbackup parks the old area; a failing stage after
	// the start brings it back from <VE_PRIVATE>.previous.
	{name: "rollback+skipbackup", skipbackup: true, siteStage: "exit 3\n", code: 1, want: oldAsItWas},
	// copy-from-old reads the old area on the host: the paths the tricks plant.
	{name: "copy-from-old", keepPaths: `["/etc/hostname", "/etc/passwd", "/etc/shadow", "/etc/group", "/root/.ssh",
		"/bin/bash", "/usr/share", "/home", "/names", "/deep", "/loop*", "/loops", "/dev/sd*", "/dev/initctl", "/etc\n"]`,
		want: newKeepOld},
	// the host dies while vps.configure runs (the old area at /old), then recover.
	{name: "recovery", hook: "exit 0", configure: "touch /configure-started\nexec sleep 60\n",
		killWhen: "configure-started", code: -1, want: oldAsItWas},
}

// largeTrickMode is the one mode the 100k-entry tree runs in: deleting it
// is the only step that walks a whole old area.
const largeTrickMode = "default+skipbackup"

// siteStagePipeline is the default pipeline plus a configure stage that runs
// in default mode too.
const siteStagePipeline = `pipeline "site" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "site-check" {
    script = "/etc/vz/conf/site.configure"
  }
  stage "backup-retention" "retention" {}
}
`

// TestHostilePrivateAreas runs every trick in every mode. A trick's modes
// share one host and run one after the other on a fresh copy of the same
// container, so that the canaries are checked after each run.
func TestHostilePrivateAreas(t *testing.T) {
	t.Parallel()
	for _, trick := range testenv.HostileTricks() {
		t.Run(trick.Name, func(t *testing.T) {
			t.Parallel()
			host := newTestHost(t)
			if trick.Large {
				// Creating and deleting 100k entries on the shared disk takes
				// minutes under load; on a tmpfs, seconds. The walk is the same.
				host.mountTmpfs(host.Path("vz/private"), "size=512m,nr_inodes=400k")
			}
			host.createCT()
			pristine := host.Path("pristine-101")
			copyTree(t, host.private(""), pristine)
			canaries := host.canaries()
			for _, m := range hostileModes {
				if trick.Large && m.name != largeTrickMode {
					continue
				}
				t.Run(m.name, func(t *testing.T) {
					h := &testHost{Host: host.Host, t: t}
					h.resetCT(pristine)
					runHostile(t, h, canaries, trick, m)
				})
			}
		})
	}
}

func runHostile(t *testing.T, h *testHost, canaries *testenv.Canaries, trick testenv.Trick, m hostileMode) {
	if err := trick.Plant(h.private(""), canaries); err != nil {
		t.Fatalf("plant %s: %v", trick.Name, err)
	}
	var before testenv.Tree
	if !trick.Large {
		before = h.tree("")
	} else if n := countEntries(t, h.private("many")); n != testenv.ManyEntries {
		t.Fatalf("the large tree has %d entries, want %d", n, testenv.ManyEntries)
	}
	if m.hook != "" {
		h.writeScript("vps.reinstall", recordingHook(h.Path("record"), m.hook), 0o755)
	}
	if m.configure != "" {
		h.writeScript("vps.configure", m.configure, 0o644)
	}
	var args []string
	if m.siteStage != "" {
		h.writeScript("site.configure", m.siteStage, 0o644)
		args = append(args, "--pipeline", h.writePipelineFile("site.hcl", siteStagePipeline))
	}
	if m.keepPaths != "" {
		example, err := os.ReadFile("../../examples/pipelines/keep-paths.hcl")
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--pipeline", h.writePipelineFile("keep-paths.hcl", string(example)), "--var", "keep="+m.keepPaths)
	}
	if m.skipbackup {
		args = append(args, "--skipbackup")
	}
	args = append(args, "101")
	if err := canaries.Arm(); err != nil {
		t.Fatal(err)
	}

	var r result
	if m.killWhen != "" {
		r = h.killDuring(func() bool { return exists(h.private(m.killWhen)) }, args...)
		if rec := h.cli("recover", "101"); rec.code != 0 {
			t.Fatalf("recover: exit %d\n%s%s\nrun stderr:\n%s", rec.code, rec.stdout, rec.stderr, r.stderr)
		}
	} else {
		r = h.cli(args...)
	}
	if err := canaries.Check(); err != nil {
		t.Errorf("host files outside the private area were touched:\n%v", err)
	}
	if r.code != m.code {
		t.Fatalf("exit %d, want %d\n%s", r.code, m.code, r.stderr)
	}
	switch m.want {
	case newKeepOld, newDeleteOld:
		if got := h.status(); got != "running" {
			t.Errorf("status %q, want running", got)
		}
		if exists(h.private("etc/broken.conf")) || !exists(h.private("etc/motd")) {
			t.Error("the new private area is not the fresh template")
		}
		if m.hook == "exit 0" && !exists(h.private("etc/custom-marker")) {
			t.Error("custom mode: the new area is not the one vps.reinstall left")
		}
		if m.keepPaths != "" && (!strings.Contains(r.stderr, "kept /home") || !exists(h.private("home/customer/notes.txt"))) {
			t.Errorf("copy-from-old did not copy /home:\n%s", r.stderr)
		}
		if m.want == newDeleteOld && exists(h.private("old")) {
			t.Error("/old exists after --skipbackup")
		}
		if m.want == newKeepOld && before != nil {
			assertTree(t, "the old area at /old", before, h.tree("old"))
		}
	case oldAsItWas:
		if got := h.status(); got != "stopped" {
			t.Errorf("status %q, want stopped", got)
		}
		assertTree(t, "the private area", before, h.tree(""))
	}
	h.assertClean()
}

// resetCT puts container 101 back to a stopped copy of pristine, with no
// scripts and nothing left of an earlier run.
func (h *testHost) resetCT(pristine string) {
	h.t.Helper()
	h.cli("ct", "stop", "101")
	leftovers, _ := filepath.Glob(h.Path("vz/private/101*"))
	for _, p := range append(leftovers, h.Path("vz/lock/101.journal"), h.Path("vz/lock/101.lck"), h.Path("record"),
		h.Path("etc/vz/conf/vps.reinstall"), h.Path("etc/vz/conf/vps.configure"), h.Path("etc/vz/conf/site.configure")) {
		if err := os.RemoveAll(p); err != nil {
			h.t.Fatal(err)
		}
	}
	copyTree(h.t, pristine, h.private(""))
}

// mountTmpfs mounts a tmpfs at dir until the test ends (before the host's
// own cleanup looks for mounts left under the root).
func (h *testHost) mountTmpfs(dir, options string) {
	h.t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, options); err != nil {
		h.t.Fatalf("mount tmpfs at %s: %v", dir, err)
	}
	h.t.Cleanup(func() {
		h.cli("ct", "stop", "101")
		unix.Unmount(dir, unix.MNT_DETACH)
	})
}

// countEntries counts the entries of the directories in dir.
func countEntries(t *testing.T, dir string) int {
	t.Helper()
	subdirs, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range subdirs {
		entries, err := os.ReadDir(filepath.Join(dir, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n += len(entries)
	}
	return n
}

// copyTree copies a directory with owners, modes, xattrs and links (cp -a).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v %s", from, to, err, out)
	}
}

// canaries plants the fake host files at <root>/host, outside every area.
func (h *testHost) canaries() *testenv.Canaries {
	h.t.Helper()
	c, err := testenv.NewCanaries(h.Path("host"))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// killDuring starts `reinstall args...`, SIGKILLs it once cond holds and
// returns what it printed (code -1: killed).
func (h *testHost) killDuring(cond func() bool, args ...string) result {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	// A run reaches vps.configure in seconds; a loaded CI machine gets a minute.
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			h.t.Fatalf("reinstall %v ended before the kill point\n%s", args, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			h.t.Fatalf("reinstall %v did not reach the kill point in a minute\n%s", args, stderr.String())
		}
	}
	cmd.Process.Kill()
	<-done
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}
