package templates

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/testenv"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, mknod, mounts)")
	}
}

// packTemplate writes a small private area with motd saying motd as
// <cacheDir>/tmpl.tar.zst with GNU tar, as template caches are made.
func packTemplate(t *testing.T, cacheDir, motd string) string {
	t.Helper()
	src := t.TempDir()
	for name, body := range map[string]string{"etc/motd": motd, "etc/passwd": "root:x:0:0::/root:/bin/sh\n", "bin/tool": "#!/bin/sh\n"} {
		must(t, os.MkdirAll(filepath.Join(src, filepath.Dir(name)), 0o755))
		must(t, os.WriteFile(filepath.Join(src, name), []byte(body), 0o644))
	}
	must(t, os.Link(filepath.Join(src, "bin/tool"), filepath.Join(src, "bin/tool-hard")))
	must(t, os.Symlink("tool", filepath.Join(src, "bin/sh")))
	must(t, os.MkdirAll(filepath.Join(src, "dev"), 0o755))
	must(t, unix.Mknod(filepath.Join(src, "dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, os.Chown(filepath.Join(src, "etc/motd"), 1000, 1000))
	must(t, unix.Setxattr(filepath.Join(src, "etc/passwd"), "user.kept", []byte("yes"), 0))
	archive := filepath.Join(cacheDir, "tmpl.tar.zst")
	out, err := exec.Command("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--zstd", "-cpf", archive, "-C", src, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return archive
}

// extracted is what Untar makes of archive: the reference every clone must equal.
func extracted(t *testing.T, archive string) testenv.Tree {
	t.Helper()
	dir := t.TempDir()
	if _, err := safefs.Untar(context.Background(), archive, dir, nil); err != nil {
		t.Fatal(err)
	}
	return hashTree(t, dir)
}

func hashTree(t *testing.T, dir string) testenv.Tree {
	t.Helper()
	tree, err := testenv.HashTree(dir)
	must(t, err)
	return tree
}

func unpack(t *testing.T, archive, mode string) (string, string) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "101.reinstall")
	must(t, os.Mkdir(dest, 0o700))
	method, _, err := Unpack(context.Background(), archive, dest, mode, nil, nil)
	if err != nil {
		t.Fatalf("Unpack(%s): %v", mode, err)
	}
	return dest, method
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	return st.Ino
}

func TestUnpackBuildsReusesAndInvalidatesTheCache(t *testing.T) {
	requireRoot(t)
	cacheDir := t.TempDir()
	archive := packTemplate(t, cacheDir, "first\n")
	cache := filepath.Join(cacheDir, "tmpl.d")

	dest, method := unpack(t, archive, CacheAlways)
	if method != MethodClone {
		t.Fatalf("method %q, want %q", method, MethodClone)
	}
	if diff := cmp.Diff(extracted(t, archive), hashTree(t, dest)); diff != "" {
		t.Errorf("clone differs from an extraction (-untar +clone):\n%s", diff)
	}
	if inode(t, filepath.Join(dest, "bin/tool")) != inode(t, filepath.Join(dest, "bin/tool-hard")) {
		t.Error("the hard link was not kept")
	}
	built := inode(t, filepath.Join(cache, "tree"))

	// Unchanged archive: the same cache is cloned again.
	unpack(t, archive, CacheAlways)
	if inode(t, filepath.Join(cache, "tree")) != built {
		t.Error("the cache was rebuilt although the archive did not change")
	}

	// A new archive (new inode, size and mtime) rebuilds it, leaving nothing aside.
	must(t, os.Remove(archive))
	packTemplate(t, cacheDir, "second, longer\n")
	dest, _ = unpack(t, archive, CacheAlways)
	if data, _ := os.ReadFile(filepath.Join(dest, "etc/motd")); string(data) != "second, longer\n" {
		t.Errorf("after the template changed, the clone's motd is %q", data)
	}
	if diff := cmp.Diff(extracted(t, archive), hashTree(t, dest)); diff != "" {
		t.Errorf("clone of the rebuilt cache differs from an extraction (-untar +clone):\n%s", diff)
	}

	// Same inode and size, new mtime (rewritten in place): rebuilt too.
	rebuilt := inode(t, filepath.Join(cache, "tree"))
	must(t, os.Chtimes(archive, time.Now(), time.Now().Add(time.Hour)))
	unpack(t, archive, CacheAlways)
	if inode(t, filepath.Join(cache, "tree")) == rebuilt {
		t.Error("the cache was not rebuilt after the archive's mtime changed")
	}
	assertOnlyCache(t, cacheDir)
}

func assertOnlyCache(t *testing.T, cacheDir string) {
	t.Helper()
	ents, err := os.ReadDir(cacheDir)
	must(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if diff := cmp.Diff([]string{"tmpl.d", "tmpl.tar.zst"}, got); diff != "" {
		t.Errorf("template cache directory (-want +got):\n%s", diff)
	}
}

func TestUnpackAutoExtractsWithoutReflinks(t *testing.T) {
	requireRoot(t)
	cacheDir := t.TempDir()
	if safefs.CanReflink(cacheDir) {
		t.Skipf("%s can reflink; this test is about ext4", cacheDir)
	}
	archive := packTemplate(t, cacheDir, "motd\n")
	for _, mode := range []string{CacheAuto, CacheOff} {
		dest, method := unpack(t, archive, mode)
		if method != MethodUntar {
			t.Errorf("mode %s: method %q, want %q", mode, method, MethodUntar)
		}
		if diff := cmp.Diff(extracted(t, archive), hashTree(t, dest)); diff != "" {
			t.Errorf("mode %s: tree differs (-want +got):\n%s", mode, diff)
		}
	}
	if _, err := os.Lstat(CacheDir(archive)); !os.IsNotExist(err) {
		t.Errorf("auto built a cache on a file system that cannot reflink (%v)", err)
	}
}

func TestUnpackAutoClonesOnXFS(t *testing.T) {
	requireRoot(t)
	mnt := testenv.MountLoopXFS(t)
	if !safefs.CanReflink(mnt) {
		t.Skip("xfs was made without reflink support")
	}
	cacheDir := filepath.Join(mnt, "vz/template/cache")
	must(t, os.MkdirAll(cacheDir, 0o755))
	archive := packTemplate(t, cacheDir, "motd\n")
	private := filepath.Join(mnt, "vz/private")
	must(t, os.MkdirAll(private, 0o755))
	for i := range 2 { // first use builds the cache, the second only clones
		dest := filepath.Join(private, "101.reinstall")
		must(t, os.Mkdir(dest, 0o700))
		method, _, err := Unpack(context.Background(), archive, dest, CacheAuto, nil, nil)
		if err != nil || method != MethodClone {
			t.Fatalf("run %d: Unpack = %q, %v; want a clone", i, method, err)
		}
		if diff := cmp.Diff(extracted(t, archive), hashTree(t, dest)); diff != "" {
			t.Errorf("run %d: clone differs from an extraction (-untar +clone):\n%s", i, diff)
		}
		must(t, safefs.RemoveTree(dest))
	}
	assertOnlyCache(t, cacheDir)
}

func TestUnpackConcurrentFirstUse(t *testing.T) {
	requireRoot(t)
	cacheDir := t.TempDir()
	archive := packTemplate(t, cacheDir, "motd\n")
	want := extracted(t, archive)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	dests := make([]string, len(errs))
	for i := range errs {
		dests[i] = filepath.Join(t.TempDir(), "area")
		must(t, os.Mkdir(dests[i], 0o700))
		wg.Go(func() { _, _, errs[i] = Unpack(context.Background(), archive, dests[i], CacheAlways, nil, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("unpack %d: %v", i, err)
		} else if diff := cmp.Diff(want, hashTree(t, dests[i])); diff != "" {
			t.Errorf("unpack %d differs (-want +got):\n%s", i, diff)
		}
	}
	assertOnlyCache(t, cacheDir)
}

func TestCacheDir(t *testing.T) {
	for archive, want := range map[string]string{
		"/vz/template/cache/centos-7.tar.gz":  "/vz/template/cache/centos-7.d",
		"/vz/template/cache/debian.tar":       "/vz/template/cache/debian.d",
		"/vz/template/cache/alpine.3.tar.zst": "/vz/template/cache/alpine.3.d",
		"/vz/template/cache/x.tar.bz2":        "/vz/template/cache/x.d",
	} {
		if got := CacheDir(archive); got != want {
			t.Errorf("CacheDir(%s) = %s, want %s", archive, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
