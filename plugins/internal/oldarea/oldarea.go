package oldarea

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

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
// before this stage ("old" and "placement"). The run context names stages
// but not their kinds, so every stage with both outputs is a candidate:
// candidates that disagree are an error, never a choice. The path must be
// one of the two places the swap puts it and a real directory (no symlink).
func Find(rc sdk.RunContext) (Area, error) {
	var a Area
	var from string
	names := slices.Sorted(maps.Keys(rc.StageOutputs))
	for _, name := range names {
		outs := rc.StageOutputs[name]
		if outs["placement"] == "" || outs["old"] == "" {
			continue
		}
		c := Area{Path: outs["old"], Placement: outs["placement"]}
		if a.Path == "" {
			a, from = c, name
			continue
		}
		if c != a {
			return Area{}, fmt.Errorf("stages %q and %q both report an old private area, at %s (%s) and at %s (%s): keep one swap stage before this one",
				from, name, a.Path, a.Placement, c.Path, c.Placement)
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
