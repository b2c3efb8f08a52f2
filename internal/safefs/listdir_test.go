//go:build linux

package safefs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestListDirBeneath: entries are described as they are (a symlink as a
// symlink, never its target), sorted; a directory reached through a
// symlink (the canary's) or a name leaving the root is refused.
func TestListDirBeneath(t *testing.T) {
	root, _ := hostileRoot(t)
	got, err := ListDirBeneath(root, "/etc")
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].UID, got[i].GID = 0, 0 // the test's own; not what is compared
	}
	fifo, err := os.Lstat(filepath.Join(root, "etc/fifo"))
	must(t, err)
	want := []DirEntry{
		{Name: "fifo", Type: "other", Mode: fifo.Mode().Perm()},
		{Name: "hostname", Type: "file", Mode: 0o640, Size: 3},
		{Name: "passwd", Type: "symlink", Mode: 0o777, Size: int64(len(filepath.Join(filepath.Dir(root), "canary/passwd")))},
		{Name: "relative", Type: "symlink", Mode: 0o777, Size: int64(len("hostname"))},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ListDirBeneath (-want +got):\n%s", d)
	}
	for _, rel := range []string{"hostetc", "up", "../canary", "etc/passwd"} {
		if got, err := ListDirBeneath(root, rel); err == nil {
			t.Errorf("ListDirBeneath(%q) listed %v, want it refused (a symlink or out of the root)", rel, got)
		}
	}
}

// TestWriteFileBeneathAs: the file gets the owner and mode asked, also
// when it replaces one with another owner.
func TestWriteFileBeneathAs(t *testing.T) {
	root, _ := hostileRoot(t)
	for _, rel := range []string{"etc/new", "etc/hostname"} {
		if err := WriteFileBeneathAs(root, rel, []byte("x\n"), 0o640, 1000, 1001, false); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		must(t, unix.Lstat(filepath.Join(root, rel), &st))
		if st.Uid != 1000 || st.Gid != 1001 || st.Mode&0o7777 != 0o640 {
			t.Errorf("%s is %d:%d %o, want 1000:1001 640", rel, st.Uid, st.Gid, st.Mode&0o7777)
		}
	}
	if err := WriteFileBeneathAs(root, "etc/passwd", []byte("x\n"), 0o640, -1, 0, false); err == nil {
		t.Error("WriteFileBeneathAs took a negative uid")
	}
}
