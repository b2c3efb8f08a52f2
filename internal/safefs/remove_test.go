//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// buildHostileTree fills root with what an untrusted container may leave behind, aimed at
// the canary directory outside it.
func buildHostileTree(t *testing.T, root, canary string) {
	t.Helper()
	p := func(rel string) string { return filepath.Join(root, rel) }
	mustWrite(t, p("a/b/c/file"), "x")
	mustSymlink(t, canary, p("link-dir"))
	mustSymlink(t, canary, p("a/b/link-dir"))
	mustSymlink(t, "../canary", p("link-rel"))
	mustSymlink(t, filepath.Join(canary, "victim"), p("link-file"))
	mustSymlink(t, "loop2", p("loop1"))
	mustSymlink(t, "loop1", p("loop2"))
	mustSymlink(t, "self", p("self"))
	must(t, os.Link(filepath.Join(canary, "victim"), p("hard-to-canary")))
	must(t, unix.Mkfifo(p("fifo"), 0o644))
	must(t, unix.Mknod(p("a/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, unix.Mknod(p("a/disk"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
	mustWrite(t, p("new\nline"), "x")
	mustWrite(t, p("bad \xff\xfe utf8/inner \x01"), "x")
	mustWrite(t, p("locked/file"), "x")
	must(t, os.Chmod(p("locked"), 0))
	deep := p("deep")
	for i := 0; i < 200; i++ {
		deep = filepath.Join(deep, "d")
	}
	mustWrite(t, filepath.Join(deep, "bottom"), "x")
}

func TestRemoveTreeHostile(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	canary := mustMkdir(t, filepath.Join(tmp, "canary"))
	mustWrite(t, filepath.Join(canary, "victim"), "host data\n")
	mustWrite(t, filepath.Join(canary, "sub/file"), "more\n")
	root := filepath.Join(tmp, "trash")
	buildHostileTree(t, root, canary)
	before := snapshot(t, canary, true, true)

	if err := RemoveTree(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", root, err)
	}
	if diff := cmp.Diff(before, snapshot(t, canary, true, true)); diff != "" {
		t.Errorf("canary changed (-before +after):\n%s", diff)
	}
	if err := RemoveTree(root); err != nil {
		t.Errorf("second RemoveTree: %v", err)
	}
}

func TestRemoveTreeTargets(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, tmp string) string
	}{
		{"missing", func(t *testing.T, tmp string) string { return filepath.Join(tmp, "none") }},
		{"missing parent", func(t *testing.T, tmp string) string { return filepath.Join(tmp, "none/x") }},
		{"regular file", func(t *testing.T, tmp string) string {
			mustWrite(t, filepath.Join(tmp, "f"), "x")
			return filepath.Join(tmp, "f")
		}},
		{"symlink to a directory: only the link goes", func(t *testing.T, tmp string) string {
			mustSymlink(t, filepath.Join(tmp, "canary"), filepath.Join(tmp, "link"))
			return filepath.Join(tmp, "link")
		}},
		{"empty directory", func(t *testing.T, tmp string) string { return mustMkdir(t, filepath.Join(tmp, "d")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			mustWrite(t, filepath.Join(tmp, "canary/keep"), "x")
			target := tt.setup(t, tmp)
			if err := RemoveTree(target); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still there: %v", target, err)
			}
			if _, err := os.Stat(filepath.Join(tmp, "canary/keep")); err != nil {
				t.Errorf("canary: %v", err)
			}
		})
	}
	for _, bad := range []string{"/", ".", ".."} {
		if err := RemoveTree(bad); err == nil {
			t.Errorf("RemoveTree(%q) succeeded", bad)
		}
	}
}

func TestRemoveTreeRefusesMounts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		mount func(t *testing.T, tmp, at string) // mounts something holding "marker" at at
	}{
		{"tmpfs", func(t *testing.T, tmp, at string) {
			mountTmpfs(t, at)
			mustWrite(t, filepath.Join(at, "marker"), "mounted")
		}},
		{"bind mount of the same file system", func(t *testing.T, tmp, at string) {
			src := mustMkdir(t, filepath.Join(tmp, "host"))
			mustWrite(t, filepath.Join(src, "marker"), "mounted")
			bindMount(t, src, at)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			root := filepath.Join(tmp, "trash")
			mustWrite(t, filepath.Join(root, "keep"), "x")
			at := mustMkdir(t, filepath.Join(root, "sub/mnt"))
			tt.mount(t, tmp, at)

			err := RemoveTree(root)
			if !errors.Is(err, ErrCrossesMount) {
				t.Fatalf("RemoveTree = %v, want ErrCrossesMount", err)
			}
			if _, err := os.Stat(filepath.Join(root, "keep")); err != nil {
				t.Errorf("something was deleted before the refusal: %v", err)
			}

			// The walk itself refuses too (a mount appearing after the mount table check).
			parentFd, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY, 0)
			must(t, err)
			defer unix.Close(parentFd)
			if err := removeDirAt(parentFd, "trash"); !errors.Is(err, ErrCrossesMount) {
				t.Fatalf("removeDirAt = %v, want ErrCrossesMount", err)
			}
			if data, err := os.ReadFile(filepath.Join(at, "marker")); err != nil || string(data) != "mounted" {
				t.Errorf("mounted content touched: %q %v", data, err)
			}
		})
	}
}

// TestRemoveTreeBoundedFds removes a tree deeper than PATH_MAX allows by name, with a file
// descriptor limit far below its depth.
func TestRemoveTreeBoundedFds(t *testing.T) {
	const depth = 1000
	root := filepath.Join(t.TempDir(), "deep")
	must(t, os.Mkdir(root, 0o755))
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	name := strings.Repeat("n", 40)
	for i := 0; i < depth; i++ {
		must(t, unix.Mkdirat(fd, name, 0o755))
		must(t, unix.Mknodat(fd, "fifo", unix.S_IFIFO|0o644, 0))
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		unix.Close(fd)
		fd = next
	}
	unix.Close(fd)

	var old unix.Rlimit
	must(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &old))
	open, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	limited := old
	limited.Cur = uint64(len(open) + maxOpenDirs + 16)
	must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &limited))
	err = RemoveTree(root)
	must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &old))
	if err != nil {
		t.Fatalf("RemoveTree with %d fds: %v", limited.Cur, err)
	}
	if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", root, err)
	}
	after, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	if len(after) > len(open) {
		t.Errorf("%d fds open after RemoveTree, %d before", len(after), len(open))
	}
}

// TestRemoveTreeManyEntries removes 100k entries. They live on a tmpfs: creating them on
// the shared ext4 disk takes far longer than removing them. (Measured: ~1.5s per 100k
// entries on ext4 serially; 2 or 4 workers over the top-level subtrees gave no consistent
// gain on a 2-core VM, so removal stays serial.)
func TestRemoveTreeManyEntries(t *testing.T) {
	requireRoot(t)
	const dirs, perDir = 100, 1000
	tmp := t.TempDir()
	if err := unix.Mount("tmpfs", tmp, "tmpfs", 0, "size=64m,nr_inodes=200k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(tmp, unix.MNT_DETACH) })
	root := mustMkdir(t, filepath.Join(tmp, "many"))
	for d := 0; d < dirs; d++ {
		dir := mustMkdir(t, filepath.Join(root, fmt.Sprintf("d%03d", d)))
		dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		for f := 0; f < perDir; f++ {
			must(t, unix.Mknodat(dfd, fmt.Sprintf("f%04d", f), unix.S_IFREG|0o644, 0))
		}
		unix.Close(dfd)
	}
	start := time.Now()
	must(t, RemoveTree(root))
	t.Logf("removed %d entries in %v", dirs*perDir+dirs, time.Since(start))
	if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", root, err)
	}
}

func TestMoveToTrash(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path, trash string)
		wantErr bool
		gone    bool // path and trash both gone afterwards
	}{
		{"area moved and deleted", func(t *testing.T, path, trash string) {
			mustWrite(t, filepath.Join(path, "a/b"), "x")
		}, false, true},
		{"resumed after the rename", func(t *testing.T, path, trash string) {
			mustWrite(t, filepath.Join(trash, "a/b"), "x")
		}, false, true},
		{"nothing to do", func(t *testing.T, path, trash string) {}, false, true},
		{"trash name taken", func(t *testing.T, path, trash string) {
			mustWrite(t, filepath.Join(path, "a"), "x")
			mustWrite(t, filepath.Join(trash, "b"), "x")
		}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			path, trash := filepath.Join(tmp, "101.reinstall"), filepath.Join(tmp, "101.trash-1")
			tt.setup(t, path, trash)
			err := MoveToTrash(path, trash)
			if (err != nil) != tt.wantErr {
				t.Fatalf("MoveToTrash = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if _, err := os.Stat(filepath.Join(path, "a")); err != nil {
					t.Errorf("area touched after a failed move: %v", err)
				}
				return
			}
			if left := names(t, tmp); len(left) != 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}
