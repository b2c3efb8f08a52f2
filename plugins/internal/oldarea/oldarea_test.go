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
	inside := map[string]string{"old": old, "placement": PlacementOld}
	parked := map[string]string{"old": previous, "placement": PlacementParked}
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
