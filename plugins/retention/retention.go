package retention

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Plugin returns the backup-retention plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "backup-retention", Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindBackupRetention: stage{}}}
}

type stage struct{}

// outputs are what the stage returns.
var outputs = []sdk.Output{
	{Name: "kept", Type: "string", Description: "where the old area is kept (empty with --skipbackup)"},
	{Name: "deleted", Type: "string", Description: "the trash directory the old area was deleted from (with --skipbackup)"},
}

func (stage) Schema() sdk.Schema                                   { return sdk.Schema{Outputs: outputs} }
func (stage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

// Run keeps or deletes the old area.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	if !rc.Options.SkipBackup {
		return &sdk.Result{Outputs: map[string]string{"kept": filepath.Join(rc.Private, "old")}}, nil
	}
	if err := safefs.RemoveTree(rc.Trash); err != nil {
		return nil, err
	}
	moved, err := trashOld(ctx, req)
	if err != nil {
		return nil, err
	}
	if !moved {
		return &sdk.Result{Outputs: map[string]string{"deleted": ""}}, nil
	}
	req.UI.Log("info", "deleting the old private area")
	if err := req.Host.Journal(ctx, "delete", sdk.PhaseBegin, map[string]string{"path": rc.Trash}); err != nil {
		return nil, err
	}
	if err := safefs.RemoveTree(rc.Trash); err != nil {
		return nil, fmt.Errorf("delete %s: %w", rc.Trash, err)
	}
	if err := req.Host.Journal(ctx, "delete", sdk.PhaseDone, nil); err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: map[string]string{"deleted": rc.Trash}}, nil
}

// trashOld renames the old area, wherever the swap put it, to the trash.
func trashOld(ctx context.Context, req *sdk.RunRequest) (bool, error) {
	rc := req.Context
	if _, err := os.Lstat(rc.PrivatePrevious); err == nil {
		if err := req.Host.Journal(ctx, "trash-old", sdk.PhaseBegin, map[string]string{"from": rc.PrivatePrevious, "to": rc.Trash}); err != nil {
			return false, err
		}
		if err := safefs.Rename(rc.PrivatePrevious, rc.Trash); err != nil {
			return false, fmt.Errorf("move %s to the trash: %w", rc.PrivatePrevious, err)
		}
		return true, req.Host.Journal(ctx, "trash-old", sdk.PhaseDone, nil)
	}
	private, err := os.OpenFile(rc.Private, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", rc.Private, err)
	}
	defer private.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(private.Fd()), "old", &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	parent, err := os.OpenFile(filepath.Dir(rc.Trash), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer parent.Close()
	from := filepath.Join(rc.Private, "old")
	if err := req.Host.Journal(ctx, "trash-old", sdk.PhaseBegin, map[string]string{"from": from, "to": rc.Trash}); err != nil {
		return false, err
	}
	if err := safefs.RenameAt(private, "old", parent, filepath.Base(rc.Trash)); err != nil {
		return false, fmt.Errorf("move %s to the trash: %w", from, err)
	}
	return true, req.Host.Journal(ctx, "trash-old", sdk.PhaseDone, nil)
}
