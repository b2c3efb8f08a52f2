package oldarea

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestFind: the old area comes from the stage outputs "old" and
// "placement"; two stages that report different areas are an error naming
// both, whatever the map's order, and two that agree are one area.
func TestFind(t *testing.T) {
	private := filepath.Join(t.TempDir(), "private")
	old, previous := filepath.Join(private, "old"), private+".previous"
	for _, dir := range []string{old, previous} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inside, err := OutputsOf(old, PlacementOld)
	if err != nil {
		t.Fatal(err)
	}
	parked, err := OutputsOf(previous, PlacementParked)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		outputs map[string]map[string]string
		want    Area
		wantErr string
	}{
		{"one swap", map[string]map[string]string{"fetch": {"file": "x"}, "swap": inside}, Area{old, PlacementOld}, ""},
		{"parked", map[string]map[string]string{"swap": parked}, Area{previous, PlacementParked}, ""},
		{"two that agree", map[string]map[string]string{"swap": inside, "swap-again": inside}, Area{old, PlacementOld}, ""},
		{"two that disagree", map[string]map[string]string{"swap": inside, "other": parked},
			Area{}, `stages "other" and "swap" both report an old private area, at ` + previous + ` (parked) and at ` + old + ` (old): keep one swap stage before this one`},
		{"none", map[string]map[string]string{"fetch": {"file": "x"}}, Area{}, "no old private area"},
		{"no inode", map[string]map[string]string{"swap": {"old": old, "placement": PlacementOld}}, Area{},
			`stage "swap" reported the old private area without its old_inode and old_device`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := sdk.RunContext{Private: private, PrivatePrevious: previous, StageOutputs: tt.outputs}
			// Go randomises map order: repeat so a choice by order shows.
			for range 50 {
				got, err := Find(rc)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Find: %v, %v; want an error with %q", got, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Fatalf("Find (-want +got):\n%s", d)
				}
			}
		})
	}
}

// TestFindByInode: the old area is the directory with the inode the swap
// reported, wherever the running container moved its /old inside the new
// area; what sits at /old then (an empty directory, a symlink to the new
// area's own /etc) is never taken for it. A parked area that is gone, or
// one moved beyond reach, is an error.
func TestFindByInode(t *testing.T) {
	tests := []struct {
		name string
		// move rearranges the new area after the swap reported the old one.
		move    func(t *testing.T, private string)
		wantRel string // the old area's place below the new area
		wantErr string
	}{
		{name: "in place", move: func(*testing.T, string) {}, wantRel: "old"},
		{name: "moved, with a decoy at /old", move: func(t *testing.T, private string) {
			mustRename(t, filepath.Join(private, "old"), filepath.Join(private, "srv/kept"))
			mustMkdir(t, filepath.Join(private, "old"))
		}, wantRel: "srv/kept"},
		{name: "moved, a symlink at /old", move: func(t *testing.T, private string) {
			mustRename(t, filepath.Join(private, "old"), filepath.Join(private, "srv/kept"))
			if err := os.Symlink("/etc", filepath.Join(private, "old")); err != nil {
				t.Fatal(err)
			}
		}, wantRel: "srv/kept"},
		{name: "moved beyond reach", move: func(t *testing.T, private string) {
			mustRename(t, filepath.Join(private, "old"), filepath.Join(private, "a/b/c/d/e/f"))
		}, wantErr: "is no longer at " + "%s/old, and the container did not move it within reach: not found within 4 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			private := filepath.Join(t.TempDir(), "private")
			mustMkdir(t, filepath.Join(private, "old/etc"))
			mustMkdir(t, filepath.Join(private, "srv"))
			mustMkdir(t, filepath.Join(private, "a/b/c/d/e"))
			swap, err := OutputsOf(filepath.Join(private, "old"), PlacementOld)
			if err != nil {
				t.Fatal(err)
			}
			tt.move(t, private)
			got, err := Find(sdk.RunContext{Private: private, PrivatePrevious: private + ".previous", StageOutputs: map[string]map[string]string{"swap": swap}})
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "%s", private)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Find: %v, %v; want an error with %q", got, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(Area{filepath.Join(private, tt.wantRel), PlacementOld}, got); d != "" {
				t.Errorf("Find (-want +got):\n%s", d)
			}
		})
	}
	t.Run("parked, then gone", func(t *testing.T) {
		private := filepath.Join(t.TempDir(), "private")
		mustMkdir(t, private+".previous")
		swap, err := OutputsOf(private+".previous", PlacementParked)
		if err != nil {
			t.Fatal(err)
		}
		mustRename(t, private+".previous", private+".elsewhere")
		mustMkdir(t, private+".previous")
		_, err = Find(sdk.RunContext{Private: private, PrivatePrevious: private + ".previous", StageOutputs: map[string]map[string]string{"swap": swap}})
		if err == nil || !strings.Contains(err.Error(), "is no longer at "+private+".previous") {
			t.Errorf("Find: %v, want the parked area missing", err)
		}
	})
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(to))
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
