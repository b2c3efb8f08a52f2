package reinstallscripts

import (
	"context"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/hooks"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says which hooks would run (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	which := "the host's " + rc.HostPath(hooks.Dir) + "/*.sh hooks"
	switch {
	case rc.Options.SkipScripts:
		return sdk.Description{Actions: []string{"--skipscripts: runs no hook"}}, nil
	case len(rc.Options.Scripts) > 0:
		which = "the hooks named by --scripts (" + strings.Join(rc.Options.Scripts, ", ") + "), the old container's own first"
	}
	return sdk.Description{Actions: []string{"feeds " + which + " to /bin/bash (or /bin/sh) inside the running container, REINSTALL_DATA_ROOT=" + DataRoot}}, nil
}
