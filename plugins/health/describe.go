package health

import (
	"context"
	"strconv"
	"strings"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says what the health stage waits for (for plan); a failure rolls
// the run back to the old container.
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	var c config
	_ = req.Config.Decode(&c)
	var checks []string
	if len(c.Command) > 0 {
		checks = append(checks, "the command "+strings.Join(c.Command, " ")+" exits 0")
	}
	if len(c.TCP) > 0 {
		ports := make([]string, len(c.TCP))
		for i, p := range c.TCP {
			ports[i] = strconv.Itoa(p)
		}
		checks = append(checks, "TCP ports "+strings.Join(ports, ", ")+" listen")
	}
	if c.Systemd == "auto" {
		allowed := ""
		if c.AllowDegraded {
			allowed = " (or degraded)"
		}
		checks = append(checks, "systemd is running"+allowed+" if the new init is systemd")
	}
	if len(checks) == 0 {
		return sdk.Description{Actions: []string{"checks nothing"}}, nil
	}
	wait := c.Wait
	if wait == "" {
		wait = "1m"
	}
	return sdk.Description{Actions: []string{"waits up to " + wait + " until " + strings.Join(checks, ", ") + "; else rolls back to the old container"}}, nil
}
