package copyfromold

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mkDeep makes levels nested directories "level" below dir through
// directory fds (the path is far past PATH_MAX) and returns the deepest one's fd.
func mkDeep(t *testing.T, dir string, levels int) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range levels {
		if err := unix.Mkdirat(fd, "level", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, "level", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	return fd
}

// A tree 15,000 levels deep is copied whole with the process limited to
// 256 open files: the walk holds a bounded number of directory fds. What
// is reported about an entry down there names it with a short path.
func TestCopyDeepTreeWithFewDescriptors(t *testing.T) {
	const levels = 15_000
	oldArea, newArea := areas(t)
	// On a tmpfs: 30,000 directories on a disk take a while to create.
	for _, d := range []string{oldArea, newArea} {
		if err := unix.Mount("tmpfs", d, "tmpfs", 0, "mode=755"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Unmount(d, unix.MNT_DETACH) })
	}
	os.MkdirAll(filepath.Join(oldArea, "home"), 0o755)
	deepest := mkDeep(t, filepath.Join(oldArea, "home"), levels)
	if err := unix.Mknodat(deepest, "file", unix.S_IFREG|0o640, 0); err != nil {
		t.Fatal(err)
	}
	// A socket at the bottom: skipped, with a message naming it.
	cwd, _ := os.Getwd()
	if err := unix.Fchdir(deepest); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", "sock")
	os.Chdir(cwd)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	unix.Close(deepest)
	os.MkdirAll(filepath.Join(newArea, "home"), 0o755)

	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 256
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)

	cp, err := newCopier(oldArea, newArea)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Umask(unix.Umask(0))
	err = cp.copyPath("home")
	cp.close()
	unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	if err != nil {
		if len(err.Error()) > 1000 {
			t.Fatalf("copy failed, with a %d-byte message", len(err.Error()))
		}
		t.Fatal(err)
	}
	if cp.entries != levels+2 { // the directories, the file, the top
		t.Errorf("%d entries copied, want %d", cp.entries, levels+2)
	}
	fd := mkDeepOpen(t, filepath.Join(newArea, "home"), levels)
	var st unix.Stat_t
	if err := unix.Fstatat(fd, "file", &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode != unix.S_IFREG|0o640 {
		t.Errorf("the deepest file in the copy: %v, mode %o", err, st.Mode)
	}
	unix.Close(fd)
	if len(cp.skipped) != 1 || len(cp.skipped[0]) > 400 || !strings.Contains(cp.skipped[0], "…") || !strings.HasSuffix(cp.skipped[0], "/level/sock is a socket: not copied") {
		t.Errorf("skipped: %d messages, first %.500q", len(cp.skipped), cp.skipped)
	}
}

// mkDeepOpen opens the directory levels deep below dir, one level at a time.
func mkDeepOpen(t *testing.T, dir string, levels int) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range levels {
		next, err := unix.Openat(fd, "level", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("level %d of the copy: %v", i+1, err)
		}
		fd = next
	}
	return fd
}

func TestShow(t *testing.T) {
	long := strings.Repeat("level/", 5000) + "file"
	cases := map[string]string{
		"home/customer/notes.txt": "/home/customer/notes.txt",
		long:                      "/level/level/level/level/level/level/level/level/level/level/level/level/level/…/level/level/level/level/level/level/level/level/level/level/level/level/file",
		strings.Repeat("x", 300):  "/" + strings.Repeat("x", 80) + "…" + strings.Repeat("x", 80),
	}
	for in, want := range cases {
		if got := show(in); got != want {
			t.Errorf("show(%.40q…) = %q, want %q", in, got, want)
		}
	}
}
