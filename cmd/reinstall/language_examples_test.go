package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// vendorExamples are examples another part of the project tests (they need
// a plugin built outside this module).
var vendorExamples = map[string]bool{"with-license.hcl": true}

// example returns the absolute path of examples/pipelines/<name>.
func example(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "examples", "pipelines", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ourExamples lists the example pipelines this package runs.
func ourExamples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(example(t, "*.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example pipelines: %v", err)
	}
	var out []string
	for _, f := range files {
		if !vendorExamples[filepath.Base(f)] {
			out = append(out, f)
		}
	}
	return out
}

func TestExamplesValidateAndAreFormatted(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	for _, f := range ourExamples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			r := h.cli("validate", f)
			if r.code != 0 {
				t.Fatalf("validate %s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
			}
			if want := "is valid"; !strings.Contains(r.stdout, want) {
				t.Errorf("validate said %q", r.stdout)
			}
			if r := h.cli("fmt", "--check", f); r.code != 0 {
				t.Errorf("fmt --check %s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestExampleDefaultRuns(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	h.mustCLI("--pipeline", example(t, "default.hcl"), "101")
	assertTree(t, "the old area at /old", before, h.tree("old"))
	if got := h.status(); got != "running" {
		t.Errorf("status %q, want running", got)
	}
	h.assertClean()
}

func TestExampleCustomScripts(t *testing.T) {
	t.Parallel()
	t.Run("site scripts in custom mode", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		h.writeHostFile("etc/vz/site/reinstall.sh", recordingHook(h.Path("record"), "exit 0"), 0o755)
		h.writeHostFile("etc/vz/site/configure.sh", "ls /old/home/customer > /site-configure-ran\n", 0o644)
		r := h.mustCLI("--pipeline", example(t, "custom-scripts.hcl"), "101")
		if !strings.Contains(r.stderr, `reinstall-hook "site-reinstall"`) || !strings.Contains(r.stderr, "hook output line") {
			t.Errorf("the site hook did not run:\n%s", r.stderr)
		}
		if got := readFile(t, h.private("etc/custom-marker")); got != "custom\n" {
			t.Errorf("custom marker %q", got)
		}
		if got := readFile(t, h.private("site-configure-ran")); got != "link\nnotes.txt\n" {
			t.Errorf("the site configure script saw /old/home/customer as %q", got)
		}
		h.assertClean()
	})
	t.Run("script_dir from --var, exit 128", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		h.writeHostFile("srv/hooks/reinstall.sh", recordingHook(h.Path("record"), "exit 128"), 0o755)
		h.writeHostFile("srv/hooks/configure.sh", "touch /must-not-run\n", 0o644)
		h.mustCLI("--pipeline", example(t, "custom-scripts.hcl"), "--var", "script_dir=/srv/hooks", "101")
		if !exists(h.Path("record/argv")) {
			t.Fatal("the hook from --var script_dir did not run")
		}
		if exists(h.private("etc/custom-marker")) || exists(h.private("must-not-run")) {
			t.Error("exit 128 kept the hook's changes or ran the configure script")
		}
		if !exists(h.private("etc/motd")) || !exists(h.private("old/home/customer/notes.txt")) {
			t.Error("default mode did not give the template with /old")
		}
		h.assertClean()
	})
}

// areaHook is a vps.reinstall for the libvzctl order: it records whether
// the temporary area was empty when it started, leaves a marker in it, then
// runs tail (which decides the exit).
func areaHook(record, tail string) string {
	return fmt.Sprintf(`#!/bin/sh
rec=%s
mkdir -p "$rec"
while [ $# -gt 0 ]; do
  case "$1" in --ve_private_tmp) NEW=$2; shift ;; --ve_private) OLD=$2; shift ;; esac
  shift
done
if [ -d "$NEW" ] && [ -z "$(ls -A "$NEW")" ]; then echo empty; else echo not-empty; fi > "$rec/area-at-start"
echo junk > "$NEW/hook-junk"
%s
`, record, tail)
}

func TestExampleLibvzctlCompatible(t *testing.T) {
	t.Parallel()
	pipelineFile := example(t, "libvzctl-compatible.hcl")
	t.Run("no script: the template is provisioned", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		before := h.tree("")
		r := h.mustCLI("--pipeline", pipelineFile, "101")
		if !strings.Contains(r.stderr, `provision "template" done`) {
			t.Errorf("provision did not run:\n%s", r.stderr)
		}
		if !exists(h.private("etc/motd")) {
			t.Error("no template in the new area")
		}
		assertTree(t, "the old area at /old", before, h.tree("old"))
		h.assertClean()
	})
	t.Run("exit 0: the script fills the empty area", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		before := h.tree("")
		rec := h.Path("record")
		h.writeScript("vps.reinstall", areaHook(rec, `cp -a "$OLD/." "$NEW/" && rm "$NEW/hook-junk" && echo custom > "$NEW/etc/custom-marker"`), 0o755)
		h.writeScript("vps.configure", "touch /configure-ran\n", 0o644)
		r := h.mustCLI("--pipeline", pipelineFile, "101")
		if got := readFile(t, filepath.Join(rec, "area-at-start")); got != "empty\n" {
			t.Errorf("the hook found the temporary area %q, want empty", got)
		}
		if !strings.Contains(r.stderr, `provision "template" skipped`) {
			t.Errorf("provision was not skipped in custom mode:\n%s", r.stderr)
		}
		if !exists(h.private("etc/custom-marker")) || !exists(h.private("home/customer/notes.txt")) || !exists(h.private("configure-ran")) {
			t.Error("custom mode did not keep the script's area and run vps.configure")
		}
		assertTree(t, "the old area at /old", before, h.tree("old"))
		h.assertClean()
	})
	t.Run("exit 128: the area is emptied and provisioned", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		before := h.tree("")
		rec := h.Path("record")
		h.writeScript("vps.reinstall", areaHook(rec, "exit 128"), 0o755)
		h.writeScript("vps.configure", "touch /configure-ran\n", 0o644)
		r := h.mustCLI("--pipeline", pipelineFile, "101")
		if got := readFile(t, filepath.Join(rec, "area-at-start")); got != "empty\n" {
			t.Errorf("the hook found the temporary area %q, want empty", got)
		}
		if !strings.Contains(r.stderr, `provision "template" done`) {
			t.Errorf("provision did not run in default mode:\n%s", r.stderr)
		}
		if exists(h.private("hook-junk")) || exists(h.private("configure-ran")) {
			t.Error("the hook's changes survived exit 128, or vps.configure ran")
		}
		if !exists(h.private("etc/motd")) {
			t.Error("no template in the new area")
		}
		assertTree(t, "the old area at /old", before, h.tree("old"))
		h.assertClean()
	})
}

func TestExampleKeepPaths(t *testing.T) {
	t.Parallel()
	for _, skipBackup := range []bool{false, true} {
		t.Run(fmt.Sprintf("skipbackup=%v", skipBackup), func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.writePrivate("etc/ssh/ssh_host_rsa_key", "PRIVATE KEY\n", 0o600)
			h.writePrivate("etc/ssh/ssh_host_rsa_key.pub", "PUBLIC KEY\n", 0o644)
			h.writePrivate("etc/ssh/sshd_config", "old config\n", 0o644)
			if err := os.Link(h.private("home/customer/notes.txt"), h.private("home/customer/notes-link")); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mkfifo(h.private("home/customer/fifo"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := unix.Lsetxattr(h.private("home/customer/notes.txt"), "user.origin", []byte("old"), 0); err != nil {
				t.Fatal(err)
			}
			os.Chmod(h.private("home/customer"), 0o750)
			os.Chown(h.private("home/customer"), 1000, 1000)
			passwd := readFile(t, "/etc/passwd")
			homeBefore := h.tree("home")
			args := []string{"--pipeline", example(t, "keep-paths.hcl"), "101"}
			if skipBackup {
				args = append([]string{"--skipbackup"}, args...)
			}
			r := h.mustCLI(args...)
			if !strings.Contains(r.stderr, "kept /home") {
				t.Errorf("no log of the copy:\n%s", r.stderr)
			}
			// /home of the old container, byte for byte: owners, modes,
			// xattrs, the symlink as a link, the fifo, the hard link.
			got := h.tree("home")
			assertTree(t, "/home in the new area", homeBefore, got)
			var a, b unix.Stat_t
			unix.Lstat(h.private("home/customer/notes.txt"), &a)
			unix.Lstat(h.private("home/customer/notes-link"), &b)
			if a.Ino != b.Ino {
				t.Error("the hard link became two files")
			}
			if target, err := os.Readlink(h.private("home/customer/link")); err != nil || target != "/etc/passwd" {
				t.Errorf("the symlink is %q, %v; want a link to /etc/passwd", target, err)
			}
			for file, mode := range map[string]os.FileMode{"etc/ssh/ssh_host_rsa_key": 0o600, "etc/ssh/ssh_host_rsa_key.pub": 0o644} {
				fi, err := os.Lstat(h.private(file))
				if err != nil || fi.Mode().Perm() != mode {
					t.Errorf("%s: %v, mode %v; want %o", file, err, fi, mode)
				}
			}
			if exists(h.private("etc/ssh/sshd_config")) || exists(h.private("etc/broken.conf")) || !exists(h.private("etc/motd")) {
				t.Error("more than the selected paths came from the old area, or the template is missing")
			}
			if readFile(t, "/etc/passwd") != passwd {
				t.Error("the host's /etc/passwd changed")
			}
			if exists(h.private("old")) == skipBackup {
				t.Errorf("/old exists=%v with --skipbackup=%v", exists(h.private("old")), skipBackup)
			}
			h.assertClean()
		})
	}
}

func TestKeepPathsNeverFollowsSymlinks(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	// The old container made /etc/ssh a symlink to the host's /etc (as seen
	// from the host) and /home a symlink to /root.
	os.RemoveAll(h.private("home"))
	os.MkdirAll(h.private("etc"), 0o755)
	if err := os.Symlink("/etc", h.private("etc/ssh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/root", h.private("home")); err != nil {
		t.Fatal(err)
	}
	r := h.mustCLI("--pipeline", example(t, "keep-paths.hcl"), "101")
	if !strings.Contains(r.stderr, "/etc/ssh in the old private area is a symlink: not followed") {
		t.Errorf("no warning about the symlinked /etc/ssh:\n%s", r.stderr)
	}
	if exists(h.private("etc/ssh")) || exists(h.private("etc/passwd-")) {
		t.Error("something was copied through the symlinked /etc/ssh")
	}
	if target, err := os.Readlink(h.private("home")); err != nil || target != "/root" {
		t.Errorf("/home is %q, %v; want the symlink itself, copied", target, err)
	}
	h.assertClean()
}

// bareHost is a --root with nothing in it, for commands that need no
// container (validate, fmt).
func bareHost(t *testing.T) *testHost {
	t.Helper()
	root := t.TempDir()
	return &testHost{Host: &testenv.Host{Root: root}, t: t}
}

// writeHostFile writes a file under the root, creating its directory.
func (h *testHost) writeHostFile(rel, content string, mode os.FileMode) {
	h.t.Helper()
	p := h.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		h.t.Fatal(err)
	}
}
