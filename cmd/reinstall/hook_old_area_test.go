package main

import (
	"os/exec"
	"strings"
	"testing"
)

// A customer hook (named by --scripts, run inside the new container) that
// moves /old elsewhere and plants a symlink in its place: the rollback finds
// the old area by its inode, never follows the symlink, and the container
// comes back as it was.
func TestRollbackFindsAnOldAreaTheHookMoved(t *testing.T) {
	t.Parallel()
	host := newTestHost(t)
	host.createCT()
	canaries := host.canaries()
	for _, target := range []string{"/", canaries.Dir} {
		t.Run("symlink to "+target, func(t *testing.T) {
			h := &testHost{Host: host.Host, t: t}
			before := h.tree("")
			h.writeHook("steal.sh", "mv /old /stolen && ln -s "+target+" /old\nexit 1\n", 0o755)
			if err := canaries.Arm(); err != nil {
				t.Fatal(err)
			}
			r := h.cli("--scripts", "steal.sh", "101")
			if err := canaries.Check(); err != nil {
				t.Errorf("host files were touched:\n%v", err)
			}
			if r.code != 1 || !strings.HasPrefix(r.lastLine(), "reinstall: reinstall-scripts: ") {
				t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "moved to "+h.private("stolen")) {
				t.Errorf("the rollback does not say where it found the old area:\n%s", r.stderr)
			}
			assertTree(t, "the private area", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status %q, want stopped", got)
			}
			h.assertClean()
		})
	}
}

// The container set the immutable flag on the old area it moved and on its
// own root (a runtime that lets it: the native one drops
// CAP_LINUX_IMMUTABLE), then the run died: recover clears the flags and
// puts the old area back.
func TestRecoverClearsImmutableFlags(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	h.writeHook("steal.sh", "mv /old /stolen && touch /stolen-ready\nexec sleep 300\n", 0o755)
	h.killDuring(func() bool { return exists(h.private("stolen-ready")) }, "--scripts", "steal.sh", "101")
	for _, p := range []string{h.private("stolen"), h.private("")} {
		if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
			t.Skipf("chattr +i %s: %v %s: the file system of TMPDIR has no immutable flag; run on ext4, xfs or btrfs", p, err, out)
		}
	}
	rec := h.cli("recover", "101")
	if rec.code != 0 || !strings.Contains(rec.stdout, "rolled back") {
		exec.Command("chattr", "-R", "-i", h.private("")).Run()
		t.Fatalf("recover: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	if !strings.Contains(rec.stderr, "cleared the immutable or append-only flag set on "+h.private("stolen")) {
		t.Errorf("recover does not say it cleared the flag:\n%s", rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
}
