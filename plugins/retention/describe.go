package retention

import (
	"context"
	"path/filepath"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says what becomes of the old area (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	if rc.Options.SkipBackup {
		return sdk.Description{
			Creates: []string{rc.Trash + " (while deleting)"},
			Actions: []string{"deletes the old private area: renamed to the trash, then removed without following symlinks"},
		}, nil
	}
	return sdk.Description{Actions: []string{"keeps the old private area at " + filepath.Join(rc.Private, "old")}}, nil
}
