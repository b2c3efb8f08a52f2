package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// ReadOldFile reads the old area by the inode preflight recorded, wherever
// it is: the container's area before the swap, /old (kept), parked
// (--skipbackup), or where the running container moved its /old, never a
// decoy at /old. An area that is gone is an error, not the new area.
func TestReadOldFileFindsTheOldAreaByInode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// swap rearranges the areas after preflight recorded the old one
		// (at private, holding etc/marker "old").
		swap    func(t *testing.T, private string)
		wantErr string
	}{
		{name: "before the swap", swap: func(*testing.T, string) {}},
		{name: "kept at /old", swap: func(t *testing.T, private string) {
			exchange(t, private, "old")
		}},
		{name: "parked", swap: func(t *testing.T, private string) {
			mustRun(t, os.Rename(private, private+".previous"))
			newArea(t, private)
		}},
		{name: "moved by the container, a decoy at /old", swap: func(t *testing.T, private string) {
			exchange(t, private, "srv/kept")
			mustRun(t, os.Symlink("etc", filepath.Join(private, "old")))
		}},
		{name: "gone", swap: func(t *testing.T, private string) {
			mustRun(t, os.Rename(private, private+".elsewhere"))
			newArea(t, private)
		}, wantErr: "the old private area (inode "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			private := filepath.Join(t.TempDir(), "private")
			mustRun(t, os.MkdirAll(filepath.Join(private, "etc"), 0o755))
			mustRun(t, os.WriteFile(filepath.Join(private, "etc/marker"), []byte("old"), 0o644))
			var st unix.Stat_t
			mustRun(t, unix.Lstat(private, &st))
			r := &run{rc: sdk.RunContext{Private: private, PrivatePrevious: private + ".previous"}, origIno: st.Ino, origDev: st.Dev}
			tt.swap(t, private)
			got, err := r.services().ReadOldFile(context.Background(), "/etc/marker")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadOldFile: %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != "old" {
				t.Fatalf("ReadOldFile: %q, %v; want the old area's marker", got, err)
			}
		})
	}
}

// exchange puts a new area at private with the old one at rel inside it.
func exchange(t *testing.T, private, rel string) {
	t.Helper()
	mustRun(t, os.Rename(private, private+".tmp-old"))
	newArea(t, private)
	mustRun(t, os.MkdirAll(filepath.Dir(filepath.Join(private, rel)), 0o755))
	mustRun(t, os.Rename(private+".tmp-old", filepath.Join(private, rel)))
}

// newArea makes a new private area whose etc/marker says "new".
func newArea(t *testing.T, private string) {
	t.Helper()
	mustRun(t, os.MkdirAll(filepath.Join(private, "etc"), 0o755))
	mustRun(t, os.WriteFile(filepath.Join(private, "etc/marker"), []byte("new"), 0o644))
}

func mustRun(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
