package retention

import (
	"os"
	"path/filepath"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

// TestRetention runs the backup-retention stage through sdktest: without
// --skipbackup it keeps the old area at /old; with it, it deletes the old
// area wherever the swap put it (/old, or parked beside the new area) by
// way of the trash, journaling the move first.
func TestRetention(t *testing.T) {
	tests := []struct {
		name       string
		skipBackup bool
		parked     bool
		wantKept   bool
	}{
		{name: "kept", wantKept: true},
		{name: "deleted from /old", skipBackup: true},
		{name: "deleted when parked", skipBackup: true, parked: true},
	}
	c := sdktest.Serve(t, Plugin())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			rc := sdk.RunContext{
				Private:         filepath.Join(base, "101"),
				PrivatePrevious: filepath.Join(base, "101.previous"),
				Trash:           filepath.Join(base, "101.trash-run"),
				Options:         sdk.Options{SkipBackup: tt.skipBackup},
			}
			old := filepath.Join(rc.Private, "old")
			if tt.parked {
				old = rc.PrivatePrevious
			}
			if err := os.MkdirAll(filepath.Join(old, "home/customer"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(rc.Private, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			out := c.Run(sdk.KindBackupRetention, nil, rc)
			if out.Failure != "" {
				t.Fatalf("Run failed: %s", out.Failure)
			}
			_, err := os.Stat(old)
			if kept := err == nil; kept != tt.wantKept {
				t.Errorf("old area kept: %v, want %v", kept, tt.wantKept)
			}
			if tt.wantKept {
				if got := out.Result.Outputs["kept"]; got != old {
					t.Errorf("kept output %q, want %q", got, old)
				}
				return
			}
			if got := out.Result.Outputs["deleted"]; got != rc.Trash {
				t.Errorf("deleted output %q, want the trash %q", got, rc.Trash)
			}
			if _, err := os.Stat(rc.Trash); !os.IsNotExist(err) {
				t.Errorf("the trash is left: %v", err)
			}
			if _, err := os.Stat(filepath.Join(rc.Private, "etc")); err != nil {
				t.Errorf("the new area was touched: %v", err)
			}
			entries := c.Host.JournalEntries()
			found := false
			for _, e := range entries {
				if e.Step == "trash-old" && e.Phase == sdk.PhaseBegin && e.Data["from"] == old {
					found = true
				}
			}
			if !found {
				t.Errorf("the move to the trash was not journaled from %s: %v", old, entries)
			}
		})
	}
}
