package oldarea

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Where the swap placed the old area (its "placement" output).
const (
	// PlacementOld: at <VE_PRIVATE>/old, which the container sees as /old.
	PlacementOld = "old"
	// PlacementParked: at <VE_PRIVATE>.previous (default mode with
	// --skipbackup), outside the container.
	PlacementParked = "parked"
)

// Area is the old private area as the swap left it.
type Area struct {
	// Path is the host path of the old area's root.
	Path string
	// Placement is PlacementOld or PlacementParked.
	Placement string
}

// InContainer reports whether the running container sees the area at /old.
func (a Area) InContainer() bool { return a.Placement == PlacementOld }

// Find returns the old area from the outputs of the swap stage that ran
// before this stage ("old" and "placement"). The path must be one of the
// two places the swap puts it and a real directory (no symlink).
func Find(rc sdk.RunContext) (Area, error) {
	var a Area
	for _, outs := range rc.StageOutputs {
		if outs["placement"] != "" && outs["old"] != "" {
			a = Area{Path: outs["old"], Placement: outs["placement"]}
			break
		}
	}
	if a.Path == "" {
		return Area{}, errors.New("no old private area: no swap stage ran before this stage (put it after the swap and start stages)")
	}
	want := map[string]string{PlacementOld: filepath.Join(rc.Private, "old"), PlacementParked: rc.PrivatePrevious}
	if p, ok := want[a.Placement]; !ok || p != a.Path {
		return Area{}, fmt.Errorf("the swap stage reported the old private area at %s (%s), not at %s or %s",
			a.Path, a.Placement, want[PlacementOld], want[PlacementParked])
	}
	fi, err := os.Lstat(a.Path)
	if err != nil {
		return Area{}, fmt.Errorf("old private area: %w", err)
	}
	if !fi.IsDir() {
		return Area{}, fmt.Errorf("old private area %s is not a directory (%s)", a.Path, fi.Mode().Type())
	}
	return a, nil
}
