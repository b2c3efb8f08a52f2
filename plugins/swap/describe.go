package swap

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// defaultTimeout bounds a swap whose pipeline sets no timeout.
const defaultTimeout = 10 * time.Minute

// Describe says what the swap would do (for plan): where the old area goes
// depends on --skipbackup and, with it, on the hook's mode.
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	var d sdk.Description
	if req.Running && rc.Options.Stop {
		d.Actions = append(d.Actions, "stops the running container right before the exchange")
	}
	d.Actions = append(d.Actions, fmt.Sprintf("exchanges %s and %s in one renameat2(RENAME_EXCHANGE)", rc.Private, rc.PrivateTmp))
	old := filepath.Join(rc.Private, "old")
	var c config
	_ = req.Config.Decode(&c)
	switch {
	case !rc.Options.SkipBackup || req.Config.IsKnown("mode") && c.Mode == modeCustom:
		d.Creates = append(d.Creates, old)
		d.Actions = append(d.Actions, "moves the old private area to "+old+" (/old inside the container)")
	case !req.Config.IsKnown("mode"):
		d.Creates = append(d.Creates, old+" (mode \"custom\")", rc.PrivatePrevious+" (mode \"default\")")
		d.Actions = append(d.Actions, "moves the old private area to "+old+" in mode \"custom\", parks it at "+rc.PrivatePrevious+" in mode \"default\"")
	default:
		d.Creates = append(d.Creates, rc.PrivatePrevious)
		d.Actions = append(d.Actions, "parks the old private area at "+rc.PrivatePrevious)
	}
	return d, nil
}
