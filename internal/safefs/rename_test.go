//go:build linux

package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func readMarker(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "marker"))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(data)
}

func TestExchange(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "private/101"), filepath.Join(tmp, "private/101.reinstall")
	mustWrite(t, filepath.Join(a, "marker"), "old")
	mustWrite(t, filepath.Join(b, "marker"), "new")
	must(t, Exchange(a, b))
	if got := readMarker(t, a) + "," + readMarker(t, b); got != "new,old" {
		t.Errorf("after Exchange: %s, want new,old", got)
	}
	if err := Exchange(a, filepath.Join(tmp, "missing")); !errors.Is(err, unix.ENOENT) {
		t.Errorf("Exchange with a missing side: %v, want ENOENT", err)
	}
	if got := readMarker(t, a); got != "new" {
		t.Errorf("failed Exchange changed %s: %s", a, got)
	}
	if err := Exchange(a, "/"); err == nil {
		t.Error("Exchange with / succeeded")
	}
}

func TestRename(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		setup   func(t *testing.T, tmp string) (from, to string)
		wantErr error
	}{
		{"to a free name", func(t *testing.T, tmp string) (string, string) {
			mustWrite(t, filepath.Join(tmp, "a/marker"), "a")
			return filepath.Join(tmp, "a"), filepath.Join(tmp, "trash-1")
		}, nil},
		{"onto an existing directory", func(t *testing.T, tmp string) (string, string) {
			mustWrite(t, filepath.Join(tmp, "a/marker"), "a")
			return filepath.Join(tmp, "a"), mustMkdir(t, filepath.Join(tmp, "b"))
		}, unix.EEXIST},
		{"onto an existing symlink", func(t *testing.T, tmp string) (string, string) {
			mustWrite(t, filepath.Join(tmp, "a/marker"), "a")
			mustSymlink(t, mustMkdir(t, filepath.Join(tmp, "elsewhere")), filepath.Join(tmp, "b"))
			return filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
		}, unix.EEXIST},
		{"across file systems", func(t *testing.T, tmp string) (string, string) {
			mustWrite(t, filepath.Join(tmp, "a/marker"), "a")
			other := mustMkdir(t, filepath.Join(tmp, "other"))
			mountTmpfs(t, other)
			return filepath.Join(tmp, "a"), filepath.Join(other, "a")
		}, unix.EXDEV},
		{"missing source", func(t *testing.T, tmp string) (string, string) {
			return filepath.Join(tmp, "none"), filepath.Join(tmp, "b")
		}, unix.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := tt.setup(t, t.TempDir())
			err := Rename(from, to)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Rename = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readMarker(t, to); got != "a" {
				t.Errorf("moved content: %s", got)
			}
			if _, err := os.Lstat(from); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("source still there: %v", err)
			}
		})
	}
}

func TestRenameAt(t *testing.T) {
	tmp := t.TempDir()
	oldArea := filepath.Join(tmp, "101.reinstall")
	mustWrite(t, filepath.Join(oldArea, "marker"), "old area")
	newArea := mustMkdir(t, filepath.Join(tmp, "101"))
	parent, err := OpenDir(tmp)
	must(t, err)
	defer parent.Close()
	// An O_PATH directory fd works too (the sync reopens it).
	newDir, err := OpenBeneath(newArea, ".", unix.O_PATH|unix.O_DIRECTORY, 0)
	must(t, err)
	defer newDir.Close()

	must(t, RenameAt(parent, "101.reinstall", newDir, "old"))
	if got := readMarker(t, filepath.Join(newArea, "old")); got != "old area" {
		t.Errorf("<new>/old: %s", got)
	}

	// An untrusted area holding an "old" symlink: refused, the target untouched.
	hostDir := mustMkdir(t, filepath.Join(tmp, "host"))
	evil := mustMkdir(t, filepath.Join(tmp, "evil"))
	mustSymlink(t, hostDir, filepath.Join(evil, "old"))
	mustWrite(t, filepath.Join(tmp, "second/marker"), "second")
	evilDir, err := OpenDir(evil)
	must(t, err)
	defer evilDir.Close()
	if err := RenameAt(parent, "second", evilDir, "old"); !errors.Is(err, unix.EEXIST) {
		t.Errorf("RenameAt onto a symlink: %v, want EEXIST", err)
	}
	if got := names(t, hostDir); len(got) != 0 {
		t.Errorf("symlink target changed: %q", got)
	}
	if got := readMarker(t, filepath.Join(tmp, "second")); got != "second" {
		t.Errorf("source moved: %s", got)
	}

	for _, bad := range []string{"", ".", "..", "a/b", "../x"} {
		if err := RenameAt(parent, "second", newDir, bad); err == nil {
			t.Errorf("RenameAt to %q succeeded", bad)
		}
	}
	if _, err := OpenDir(filepath.Join(evil, "old")); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("OpenDir of a symlink: %v, want ErrUnsafePath", err)
	}
}

func TestSyncDir(t *testing.T) {
	must(t, SyncDir(t.TempDir()))
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("SyncDir of a missing dir succeeded")
	}
}
