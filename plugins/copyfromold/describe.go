package copyfromold

import (
	"context"
	"path/filepath"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe lists the paths the stage would copy (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	var c config
	var d sdk.Description
	if !req.Config.IsKnown("paths") || req.Config.Decode(&c) != nil {
		return d, nil
	}
	for _, path := range c.Paths {
		d.Creates = append(d.Creates, filepath.Join(req.Context.Private, path))
		d.Actions = append(d.Actions, "copies "+path+" from the old private area (owners and modes kept, symlinks copied as links)")
	}
	return d, nil
}
