package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// killHostHook is a vps.reinstall that SIGKILLs reinstall (its plugin's
// parent) in the middle of the run.
const killHostHook = `#!/bin/sh
kill -KILL "$(cut -d' ' -f4 /proc/$PPID/stat)"
sleep 30
`

// Recovery reads nothing but the journal: the interrupted run's pipeline
// was given by a relative path and is then deleted, a broken site pipeline
// appears, and recover runs from another directory, yet it rolls back with
// the pipeline the run used.
func TestRecoverReadsOnlyTheJournal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	h.writeScript("vps.reinstall", killHostHook, 0o755)
	dir := h.Path("work")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.hcl"), []byte(noExtrasPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--pipeline", "site.hcl", "101")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !exists(h.Path("vz/lock/101.journal")) {
		t.Fatalf("the run was not killed mid-way (%v):\n%s", err, stderr.String())
	}
	if err := os.Remove(filepath.Join(dir, "site.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path("etc/vz/reinstall.hcl"), []byte("this is { not a pipeline\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := h.cli("recover", "101")
	if rec.code != 0 || !strings.Contains(rec.stdout, "rolled back") {
		t.Fatalf("recover: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
}

// journalV1 is a journal written by reinstall before journals had a format
// (format 1: no pipeline source), SIGKILLed right after the swap of the
// default pipeline. @ROOT@, @INO@ and @DEV@ stand for the test host's root
// and the old private area's inode and device.
//
//go:embed testdata/journal-v1-after-swap.jsonl
var journalV1 string

// A journal of format 1 is still recovered: its pipeline is read as the
// binary that wrote it did (here the embedded default), and the old area,
// placed at /old by the swap, comes back by its recorded inode.
func TestRecoverFormat1Journal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	private := h.private("")
	var st unix.Stat_t
	if err := unix.Lstat(private, &st); err != nil {
		t.Fatal(err)
	}
	// The disk as the run left it: the new area at VE_PRIVATE, the old one
	// at its /old.
	tmp := private + ".reinstall"
	if err := os.MkdirAll(filepath.Join(tmp, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "etc/hostname"), []byte("template\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, private, unix.AT_FDCWD, tmp, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(private, "old")); err != nil {
		t.Fatal(err)
	}
	journal := strings.NewReplacer("@ROOT@", h.Root, "@INO@", strconv.FormatUint(st.Ino, 10), "@DEV@", strconv.FormatUint(st.Dev, 10)).Replace(journalV1)
	if err := os.WriteFile(h.Path("vz/lock/101.journal"), []byte(journal), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := h.cli("recover", "101")
	if rec.code != 0 || !strings.Contains(rec.stdout, "rolled back") {
		t.Fatalf("recover: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
}

// A corrupt record in the middle of a journal is refused by recover and
// status, naming the journal and the line, and the journal stays as it is.
func TestCorruptJournalIsRefused(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	path := h.Path("vz/lock/101.journal")
	lines := strings.Split(strings.NewReplacer("@ROOT@", h.Root, "@INO@", "1", "@DEV@", "1").Replace(journalV1), "\n")
	lines[2] = lines[2][:40]
	corrupt := strings.Join(lines, "\n")
	if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("journal %s: line 3 is corrupt", path)
	for _, args := range [][]string{{"recover", "101"}, {"status", "101"}} {
		r := h.cli(args...)
		if r.code == 0 || !strings.Contains(r.lastLine(), want) {
			t.Errorf("%v: exit %d, want a refusal naming %q\n%s", args, r.code, want, r.stderr)
		}
	}
	if got := readFile(t, path); got != corrupt {
		t.Error("the corrupt journal was changed")
	}
}

// Recovery launches the external plugin file the run recorded, pinned to
// the SHA-256 it had then: a file changed since is refused (even one that
// no required_plugins block pins), and once it is back, recover finishes.
func TestRecoverLaunchesTheRecordedPluginFile(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	tag := newTag(t)
	wrapper := crashyWrapper("serve", tag)
	plugin := installPlugin(t, h.Path(sitePluginDir), "crashy", wrapper, 0o755)
	file := h.writePipelineFile("crashy.hcl", crashyPipeline("configure", `    mode = "hang"`))
	before := h.tree("")
	journal := h.Path("vz/lock/101.journal")
	h.killDuring(func() bool {
		data, _ := os.ReadFile(journal)
		return bytes.Contains(data, []byte(`"step":"misbehave"`))
	}, "--pipeline", file, "101")
	waitFor(t, "the plugin to end after its host", func() bool { return len(taggedProcesses(tag)) == 0 })

	installPlugin(t, h.Path(sitePluginDir), "crashy", append(slices.Clone(wrapper), "# changed since the run\n"...), 0o755)
	rec := h.cli("recover", "101")
	if rec.code != 3 || !strings.Contains(rec.stderr, "plugin crashy: refusing to start "+plugin+": its SHA-256 is") {
		t.Fatalf("recover with a changed plugin file: exit %d, want 3 refusing it\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	installPlugin(t, h.Path(sitePluginDir), "crashy", wrapper, 0o755)
	if rec := h.cli("recover", "101"); rec.code != 0 || !strings.Contains(rec.stdout, "rolled back") {
		t.Fatalf("recover: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
}
