//go:build linux

package safefs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// unpackedTemplate packs the rich test tree with GNU tar and unpacks it with Untar under
// dir, as the template cache is built; it returns the unpacked tree.
func unpackedTemplate(t *testing.T, dir string) string {
	t.Helper()
	src := mustMkdir(t, filepath.Join(dir, "src"))
	buildTemplateTree(t, src)
	// os.Chmod ignores raw setuid, setgid and sticky bits: set them for real.
	for rel, mode := range map[string]uint32{"usr/bin/su": 0o4755, "var/mail": 0o2775, "tmp": 0o1777} {
		must(t, unix.Chmod(filepath.Join(src, rel), mode))
	}
	// A root-owned file in a setgid directory of another group keeps its group.
	mustWrite(t, filepath.Join(src, "var/mail/root"), "mail\n")
	must(t, os.Chown(filepath.Join(src, "var/mail/root"), 0, 0))
	archive := filepath.Join(dir, "template.tar.zst")
	packGNU(t, src, archive, "--zstd", "--xattrs", "--xattrs-include=*")
	tree := mustMkdir(t, filepath.Join(dir, "tree"))
	if _, err := Untar(context.Background(), archive, tree, nil); err != nil {
		t.Fatalf("Untar: %v", err)
	}
	return tree
}

// assertSameTree checks that CloneTree kept everything Untar keeps.
func assertSameTree(t *testing.T, want, got string) {
	t.Helper()
	if diff := cmp.Diff(snapshot(t, want, true, true), snapshot(t, got, true, true)); diff != "" {
		t.Errorf("clone differs from the unpacked template (-want +got):\n%s", diff)
	}
	wantHash, err := testenv.HashTree(want)
	must(t, err)
	gotHash, err := testenv.HashTree(got)
	must(t, err)
	if diff := cmp.Diff(wantHash, gotHash); diff != "" {
		t.Errorf("HashTree of the clone differs (-want +got):\n%s", diff)
	}
	assertSameInode(t, filepath.Join(got, "etc/passwd"), filepath.Join(got, "etc/passwd-hard"))
	assertSameInode(t, filepath.Join(got, "bin/sh"), filepath.Join(got, "bin/sh-hard"))
	assertSparse(t, filepath.Join(got, "var/lib/sparse"), true)
	assertSparse(t, filepath.Join(got, "var/lib/hole-first"), true)
	assertSparse(t, filepath.Join(got, "var/lib/short-zero-run"), false)
	var a, b unix.Stat_t
	must(t, unix.Lstat(filepath.Join(want, "etc/passwd"), &a))
	must(t, unix.Lstat(filepath.Join(got, "etc/passwd"), &b))
	if a.Ino == b.Ino && a.Dev == b.Dev {
		t.Errorf("the clone's etc/passwd is a hard link into the template cache")
	}
}

func TestCloneTreeCopiesWithoutReflinks(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	if CanReflink(dir) {
		t.Skipf("%s can reflink; this test is about the copy fallback (ext4)", dir)
	}
	tree := unpackedTemplate(t, dir)
	dest := mustMkdir(t, filepath.Join(dir, "dest"))
	var reports []Stats
	stats, err := CloneTree(context.Background(), tree, dest, func(s Stats) { reports = append(reports, s) })
	if err != nil {
		t.Fatalf("CloneTree: %v", err)
	}
	assertSameTree(t, tree, dest)
	if stats.Reflinked != 0 {
		t.Errorf("%d files reflinked on a file system that cannot", stats.Reflinked)
	}
	if want := int64(len(snapshot(t, tree, false, false)) - 1); stats.Files != want {
		t.Errorf("stats.Files = %d, want %d", stats.Files, want)
	}
	if len(reports) == 0 || reports[len(reports)-1] != stats.Stats {
		t.Errorf("progress reports %v, want the final %v last", reports, stats.Stats)
	}
}

// TestCloneTreeBigDirectory spreads one directory over several workers, with hard links
// whose names land in different chunks.
func TestCloneTreeBigDirectory(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	src := mustMkdir(t, filepath.Join(dir, "src"))
	for i := range 5 * cloneChunk {
		mustWrite(t, filepath.Join(src, "usr/bin", fmt.Sprintf("tool%04d", i)), fmt.Sprintf("tool %d\n", i))
	}
	for i := range 3 * cloneChunk {
		if i%cloneChunk == 7 {
			must(t, os.Link(filepath.Join(src, "usr/bin/tool0000"), filepath.Join(src, "usr/bin", fmt.Sprintf("link%04d", i))))
		}
	}
	setDistinctMtimes(t, src)
	dest := mustMkdir(t, filepath.Join(dir, "dest"))
	stats, err := CloneTree(context.Background(), src, dest, nil)
	if err != nil {
		t.Fatalf("CloneTree: %v", err)
	}
	if diff := cmp.Diff(snapshot(t, src, true, true), snapshot(t, dest, true, true)); diff != "" {
		t.Errorf("clone differs from the source (-src +clone):\n%s", diff)
	}
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(dest, "usr/bin/tool0000"), &st))
	if st.Nlink != 4 {
		t.Errorf("tool0000 has %d links in the clone, want 4", st.Nlink)
	}
	if want := int64(5*cloneChunk + 3 + 2); stats.Files != want {
		t.Errorf("stats.Files = %d, want %d", stats.Files, want)
	}
}

func TestCloneTreeReflinksOnXFS(t *testing.T) {
	requireRoot(t)
	mnt := testenv.MountLoopXFS(t)
	if !CanReflink(mnt) {
		t.Skip("xfs was made without reflink support")
	}
	tree := unpackedTemplate(t, mnt)
	dest := mustMkdir(t, filepath.Join(mnt, "dest"))
	stats, err := CloneTree(context.Background(), tree, dest, nil)
	if err != nil {
		t.Fatalf("CloneTree: %v", err)
	}
	assertSameTree(t, tree, dest)
	if stats.Reflinked == 0 {
		t.Errorf("no file reflinked on xfs")
	}
	// Copy on write: changing the clone leaves the cache alone.
	must(t, os.WriteFile(filepath.Join(dest, "var/lib/random"), []byte("changed"), 0o644))
	if data, _ := os.ReadFile(filepath.Join(tree, "var/lib/random")); len(data) != 3<<20+123 {
		t.Errorf("writing the clone changed the template cache")
	}
}

func TestCloneTreeFailuresLeaveDestEmpty(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	tree := unpackedTemplate(t, dir)

	t.Run("cancelled", func(t *testing.T) {
		dest := mustMkdir(t, filepath.Join(dir, "cancelled"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := CloneTree(ctx, tree, dest, nil); err == nil {
			t.Fatal("CloneTree with a cancelled context succeeded")
		}
		if got := names(t, dest); len(got) != 0 {
			t.Errorf("dest keeps %v after a failed clone", got)
		}
	})
	t.Run("unsupported source entry", func(t *testing.T) {
		src := mustMkdir(t, filepath.Join(dir, "with-socket"))
		mustWrite(t, filepath.Join(src, "a/file"), "x")
		sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		must(t, err)
		defer unix.Close(sock)
		must(t, unix.Bind(sock, &unix.SockaddrUnix{Name: filepath.Join(src, "a/z.sock")}))
		dest := mustMkdir(t, filepath.Join(dir, "socket-dest"))
		if _, err := CloneTree(context.Background(), src, dest, nil); err == nil {
			t.Fatal("CloneTree copied a socket")
		}
		if got := names(t, dest); len(got) != 0 {
			t.Errorf("dest keeps %v after a failed clone", got)
		}
	})
	t.Run("non-empty or symlinked dest", func(t *testing.T) {
		full := mustMkdir(t, filepath.Join(dir, "full"))
		mustWrite(t, filepath.Join(full, "keep"), "mine")
		if _, err := CloneTree(context.Background(), tree, full, nil); err == nil {
			t.Error("CloneTree into a non-empty directory succeeded")
		}
		if got := names(t, full); !cmp.Equal(got, []string{"keep"}) {
			t.Errorf("a refused clone changed the destination: %v", got)
		}
		link := filepath.Join(dir, "link")
		mustSymlink(t, mustMkdir(t, filepath.Join(dir, "elsewhere")), link)
		if _, err := CloneTree(context.Background(), tree, link, nil); err == nil {
			t.Error("CloneTree through a symlinked destination succeeded")
		}
	})
}
