//go:build linux

package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckPrivateArea(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, tmp string) string // returns the area to check
		want  error                                 // nil, a sentinel, or os.ErrNotExist
	}{
		{"plain directory", func(t *testing.T, tmp string) string {
			area := mustMkdir(t, filepath.Join(tmp, "private/101"))
			mustWrite(t, filepath.Join(area, "etc/hostname"), "ct\n")
			mustSymlink(t, "/", filepath.Join(area, "rootlink")) // symlinks inside are fine
			return area
		}, nil},
		{"symlinked parent is trusted", func(t *testing.T, tmp string) string {
			mustMkdir(t, filepath.Join(tmp, "real/101"))
			mustSymlink(t, filepath.Join(tmp, "real"), filepath.Join(tmp, "private"))
			return filepath.Join(tmp, "private/101")
		}, nil},
		{"area is a symlink", func(t *testing.T, tmp string) string {
			mustSymlink(t, mustMkdir(t, filepath.Join(tmp, "elsewhere")), filepath.Join(tmp, "101"))
			return filepath.Join(tmp, "101")
		}, ErrSymlinkedArea},
		{"area is a file", func(t *testing.T, tmp string) string {
			mustWrite(t, filepath.Join(tmp, "101"), "")
			return filepath.Join(tmp, "101")
		}, ErrNotDirectory},
		{"missing", func(t *testing.T, tmp string) string { return filepath.Join(tmp, "101") }, os.ErrNotExist},
		{"tmpfs mounted inside", func(t *testing.T, tmp string) string {
			area := mustMkdir(t, filepath.Join(tmp, "101"))
			mountTmpfs(t, mustMkdir(t, filepath.Join(area, "proc")))
			return area
		}, ErrMountInside},
		{"bind mount deep inside, name with a space", func(t *testing.T, tmp string) string {
			area := mustMkdir(t, filepath.Join(tmp, "101"))
			bindMount(t, mustMkdir(t, filepath.Join(tmp, "host")), mustMkdir(t, filepath.Join(area, "var/a dir/mnt")))
			return area
		}, ErrMountInside},
		{"area is itself a mount point", func(t *testing.T, tmp string) string {
			area := mustMkdir(t, filepath.Join(tmp, "101"))
			mountTmpfs(t, area)
			return area
		}, ErrMountInside},
		{"mount next to the area is fine", func(t *testing.T, tmp string) string {
			mountTmpfs(t, mustMkdir(t, filepath.Join(tmp, "1010")))
			return mustMkdir(t, filepath.Join(tmp, "101"))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			area := tt.setup(t, t.TempDir())
			err := CheckPrivateArea(area)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("CheckPrivateArea(%s) = %v, want nil", area, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("CheckPrivateArea(%s) = %v, want %v", area, err, tt.want)
			}
		})
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	tests := map[string]string{
		`/plain`:               "/plain",
		`/a\040dir`:            "/a dir",
		`/tab\011nl\012bs\134`: "/tab\tnl\nbs\\",
		`/short\04`:            `/short\04`,
	}
	for in, want := range tests {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
