package oldarea

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

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

// The swap stage's outputs that identify the old area's directory.
const (
	OutputInode  = "old_inode"
	OutputDevice = "old_device"
)

// Area is the old private area as the swap left it.
type Area struct {
	// Path is the host path of the old area's root.
	Path string
	// Placement is PlacementOld or PlacementParked.
	Placement string
}

// InContainer reports whether the running container sees the area (at
// /old, unless it moved it).
func (a Area) InContainer() bool { return a.Placement == PlacementOld }

// reported is the old area one swap stage's outputs describe.
type reported struct {
	Area
	ino, dev string
}

// Find returns the old area the swap stage that ran before this stage
// reported ("old", "placement", and its inode and device), found by its
// inode, the way the swap's rollback finds it: at the reported place, or,
// where the running container moved its /old, anywhere within reach inside
// the new area (breadth first, bounded, never through a symlink). The run
// context names stages but not their kinds, so every stage with these
// outputs is a candidate: candidates that disagree are an error, never a
// choice.
func Find(rc sdk.RunContext) (Area, error) {
	var r reported
	var from string
	names := slices.Sorted(maps.Keys(rc.StageOutputs))
	for _, name := range names {
		outs := rc.StageOutputs[name]
		if outs["placement"] == "" || outs["old"] == "" {
			continue
		}
		c := reported{Area{Path: outs["old"], Placement: outs["placement"]}, outs[OutputInode], outs[OutputDevice]}
		if r.Path == "" {
			r, from = c, name
			continue
		}
		if c != r {
			return Area{}, fmt.Errorf("stages %q and %q both report an old private area, at %s (%s) and at %s (%s): keep one swap stage before this one",
				from, name, r.Path, r.Placement, c.Path, c.Placement)
		}
	}
	if r.Path == "" {
		return Area{}, errors.New("no old private area: no swap stage ran before this stage (put it after the swap and start stages)")
	}
	want := map[string]string{PlacementOld: filepath.Join(rc.Private, "old"), PlacementParked: rc.PrivatePrevious}
	if p, ok := want[r.Placement]; !ok || p != r.Path {
		return Area{}, fmt.Errorf("the swap stage reported the old private area at %s (%s), not at %s or %s",
			r.Path, r.Placement, want[PlacementOld], want[PlacementParked])
	}
	ino, errIno := strconv.ParseUint(r.ino, 10, 64)
	dev, errDev := strconv.ParseUint(r.dev, 10, 64)
	if errIno != nil || errDev != nil {
		return Area{}, fmt.Errorf("stage %q reported the old private area without its %s and %s: a swap plugin from another reinstall version?",
			from, OutputInode, OutputDevice)
	}
	var st unix.Stat_t
	err := unix.Lstat(r.Path, &st)
	if err == nil && st.Ino == ino && st.Dev == dev {
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return Area{}, fmt.Errorf("old private area %s is not a directory", r.Path)
		}
		return r.Area, nil
	}
	if r.Placement == PlacementParked {
		return Area{}, fmt.Errorf("the old private area (inode %d) is no longer at %s", ino, r.Path)
	}
	rel, serr := Search(rc.Private, ino, dev)
	if serr != nil {
		return Area{}, fmt.Errorf("the old private area (inode %d) is no longer at %s, and the container did not move it within reach: %w", ino, r.Path, serr)
	}
	r.Path = filepath.Join(append([]string{rc.Private}, rel...)...)
	return r.Area, nil
}

// Outputs are the outputs by which a swap stage reports the old area at
// path (placed as placement), the directory with inode ino on device dev.
func Outputs(path, placement string, ino, dev uint64) map[string]string {
	return map[string]string{
		"old": path, "placement": placement,
		OutputInode: strconv.FormatUint(ino, 10), OutputDevice: strconv.FormatUint(dev, 10),
	}
}

// OutputsOf are the Outputs for the directory now at path.
func OutputsOf(path, placement string) (map[string]string, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return nil, fmt.Errorf("old private area: %w", err)
	}
	return Outputs(path, placement, st.Ino, st.Dev), nil
}
