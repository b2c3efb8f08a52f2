package swap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Plugin returns the swap plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "swap", Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindSwap: stage{}},
		DefaultTimeouts: map[string]time.Duration{sdk.KindSwap: defaultTimeout}}
}

// Journal steps.
const (
	stepStop     = "stop"
	stepExchange = "exchange"
	stepPlaceOld = "place-old"
	stepParkOld  = "park-old"
)

type stage struct{}

// outputs are what the stage returns.
var outputs = []sdk.Output{
	{Name: "old", Type: "string", Description: "the host path of the old private area after the exchange"},
	{Name: "placement", Type: "string", Description: "old (inside the new area, as /old) or parked (beside it, <VE_PRIVATE>.previous)"},
	{Name: oldarea.OutputInode, Type: "string", Description: "the old private area's inode number, by which later stages find it wherever the container moved it"},
	{Name: oldarea.OutputDevice, Type: "string", Description: "the device number of the old private area's file system"},
}

// config is the stage's body.
type config struct {
	Mode string `hcl:"mode,optional" enum:"custom,default" default:"default" description:"the reinstall hook's mode, wired from its output (mode = try(stage.<hook>.mode, \"default\")): custom keeps the old area at /old even with --skipbackup; default (the default) parks it beside the new one then"`
}

// Schema is the body's attributes and the outputs.
func (stage) Schema() sdk.Schema {
	s := sdk.MustSchemaFromStruct(config{})
	s.Outputs = outputs
	return s
}

// Validate checks the mode, once it is known.
func (stage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	if !cfg.IsKnown("mode") {
		return nil
	}
	var c config
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: err.Error()}}
	}
	switch c.Mode {
	case "", modeCustom, modeDefault:
		return nil
	}
	return sdk.Diagnostics{{Summary: "Invalid hook mode", Detail: fmt.Sprintf("mode is %q; want %q or %q (the reinstall hook's mode output)", c.Mode, modeCustom, modeDefault), Attribute: "mode"}}
}

// The reinstall hook's modes.
const (
	modeCustom  = "custom"
	modeDefault = "default"
)

// Run swaps the areas. The old area goes to <VE_PRIVATE>/old, except in
// default mode with --skipbackup, where it is parked at <VE_PRIVATE>.previous.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	if err := checkNewArea(rc.PrivateTmp); err != nil {
		return nil, err
	}
	if rc.Options.Stop {
		if err := stopContainer(ctx, req); err != nil {
			return nil, err
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(rc.Private, &st); err != nil {
		return nil, fmt.Errorf("private area: %w", err)
	}
	oldID := map[string]string{"ino": strconv.FormatUint(st.Ino, 10), "dev": strconv.FormatUint(st.Dev, 10)}
	report := func(path, placement string) map[string]string {
		return oldarea.Outputs(path, placement, st.Ino, st.Dev)
	}
	if err := req.Host.Journal(ctx, stepExchange, sdk.PhaseBegin, oldID); err != nil {
		return nil, err
	}
	if err := safefs.Exchange(rc.Private, rc.PrivateTmp); err != nil {
		return nil, fmt.Errorf("exchange %s and %s: %w", rc.Private, rc.PrivateTmp, err)
	}
	if err := req.Host.Journal(ctx, stepExchange, sdk.PhaseDone, oldID); err != nil {
		return nil, err
	}
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	parked := rc.Options.SkipBackup && c.Mode != modeCustom
	if parked {
		if err := req.Host.Journal(ctx, stepParkOld, sdk.PhaseBegin, oldID); err != nil {
			return nil, err
		}
		if err := safefs.Rename(rc.PrivateTmp, rc.PrivatePrevious); err != nil {
			return nil, fmt.Errorf("park the old area at %s: %w", rc.PrivatePrevious, err)
		}
		if err := req.Host.Journal(ctx, stepParkOld, sdk.PhaseDone, oldID); err != nil {
			return nil, err
		}
		return &sdk.Result{Outputs: report(rc.PrivatePrevious, oldarea.PlacementParked)}, nil
	}
	if err := req.Host.Journal(ctx, stepPlaceOld, sdk.PhaseBegin, oldID); err != nil {
		return nil, err
	}
	if err := placeOld(rc); err != nil {
		return nil, err
	}
	if err := req.Host.Journal(ctx, stepPlaceOld, sdk.PhaseDone, oldID); err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: report(filepath.Join(rc.Private, "old"), oldarea.PlacementOld)}, nil
}

// checkNewArea refuses to swap when the new area has nowhere to put the old
// one: an "old" that is not an empty directory. An empty one is replaced.
func checkNewArea(tmp string) error {
	dir, err := os.OpenFile(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("new private area %s: %w", tmp, err)
	}
	defer dir.Close()
	var st unix.Stat_t
	err = unix.Fstatat(int(dir.Fd()), "old", &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("new private area %s: old: %w", tmp, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// rmdir fails on a non-empty directory, so this only removes an empty one.
		if err := unix.Unlinkat(int(dir.Fd()), "old", unix.AT_REMOVEDIR); err == nil {
			return nil
		}
	}
	return fmt.Errorf("the new private area already holds a non-empty %s/old, where the old area must go; remove it (in vps.reinstall or the template) and retry", tmp)
}

func stopContainer(ctx context.Context, req *sdk.RunRequest) error {
	state, err := req.Host.Status(ctx)
	if err != nil {
		return err
	}
	if state != "running" {
		return nil
	}
	if err := req.Host.Journal(ctx, stepStop, sdk.PhaseBegin, nil); err != nil {
		return err
	}
	req.UI.Log("info", "stopping the container for the swap")
	if err := req.Host.Stop(ctx); err != nil {
		return fmt.Errorf("stop the container: %w", err)
	}
	return req.Host.Journal(ctx, stepStop, sdk.PhaseDone, nil)
}

// placeOld moves the old area (now at the temporary path) to <new>/old by a
// rename between directory fds, so no symlink in the new area is followed.
func placeOld(rc sdk.RunContext) error {
	parent, err := oldarea.OpenDir(filepath.Dir(rc.PrivateTmp))
	if err != nil {
		return err
	}
	defer parent.Close()
	newArea, err := oldarea.OpenDir(rc.Private)
	if err != nil {
		return err
	}
	defer newArea.Close()
	if err := safefs.RenameAt(parent, filepath.Base(rc.PrivateTmp), newArea, "old"); err != nil {
		return fmt.Errorf("move the old area to %s/old: %w", rc.Private, err)
	}
	return nil
}
