package swap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

// TestSwapPlacesTheOldArea runs the swap through sdktest: the old area goes
// to the new one's /old, or, with --skipbackup and a hook mode other than
// custom (the mode attribute, wired in HCL from the hook's output), beside
// it at <VE_PRIVATE>.previous. The outputs say where, and a rollback puts
// both areas back.
func TestSwapPlacesTheOldArea(t *testing.T) {
	tests := []struct {
		name       string
		skipBackup bool
		mode       string
		want       string // the placement
	}{
		{name: "kept", want: "old"},
		{name: "kept, custom", mode: "custom", want: "old"},
		{name: "skipbackup", skipBackup: true, want: "parked"},
		{name: "skipbackup, default mode", skipBackup: true, mode: "default", want: "parked"},
		{name: "skipbackup, custom mode", skipBackup: true, mode: "custom", want: "old"},
	}
	c := sdktest.Serve(t, Plugin())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			rc := sdk.RunContext{
				Private:         filepath.Join(base, "101"),
				PrivateTmp:      filepath.Join(base, "101.reinstall"),
				PrivatePrevious: filepath.Join(base, "101.previous"),
				Options:         sdk.Options{SkipBackup: tt.skipBackup},
			}
			writeFile(t, filepath.Join(rc.Private, "customer-data"), "old\n")
			writeFile(t, filepath.Join(rc.PrivateTmp, "etc/os-release"), "new\n")
			config := map[string]any{}
			if tt.mode != "" {
				config["mode"] = tt.mode
			}
			out := c.Run(sdk.KindSwap, config, rc)
			if out.Failure != "" {
				t.Fatalf("Run failed: %s", out.Failure)
			}
			oldAt := map[string]string{"old": filepath.Join(rc.Private, "old"), "parked": rc.PrivatePrevious}[tt.want]
			got := out.Result.Outputs
			if got["placement"] != tt.want || got["old"] != oldAt || got["old_inode"] == "" {
				t.Errorf("outputs %v, want placement %s at %s with its inode", got, tt.want, oldAt)
			}
			if data, err := os.ReadFile(filepath.Join(oldAt, "customer-data")); err != nil || string(data) != "old\n" {
				t.Errorf("the old area is not at %s: %v", oldAt, err)
			}
			if data, err := os.ReadFile(filepath.Join(rc.Private, "etc/os-release")); err != nil || string(data) != "new\n" {
				t.Errorf("the new area is not at VE_PRIVATE: %v", err)
			}
			if rb := c.Rollback(sdk.KindSwap, config, rc, c.Host.JournalEntries()); rb.Failure != "" {
				t.Fatalf("Rollback failed: %s", rb.Failure)
			}
			if data, err := os.ReadFile(filepath.Join(rc.Private, "customer-data")); err != nil || string(data) != "old\n" {
				t.Errorf("after the rollback the old area is not at VE_PRIVATE: %v", err)
			}
		})
	}
	t.Run("invalid mode", func(t *testing.T) {
		var attrs []string
		for _, d := range c.Validate(sdk.KindSwap, map[string]any{"mode": "costum"}) {
			attrs = append(attrs, d.Attribute)
		}
		if d := cmp.Diff([]string{"mode"}, attrs); d != "" {
			t.Errorf("diagnostics (-want +got):\n%s", d)
		}
		if d := c.Validate(sdk.KindSwap, map[string]any{"mode": nil}, "mode"); len(d) != 0 {
			t.Errorf("an unknown mode: %v", d)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
