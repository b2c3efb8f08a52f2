package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Name is the plugin's name in pipelines (plugin = "health").
const Name = "health"

// Values of the systemd attribute.
const (
	SystemdAuto = "auto" // check when the container's init is systemd
	SystemdOff  = "off"  // never check
)

// DefaultWait is how long the checks are retried when wait is not set.
const DefaultWait = time.Minute

// retryInterval is the pause between two rounds of the pending checks.
const retryInterval = time.Second

// Plugin returns the health plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: Name, Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindConfigure: stage{}}}
}

type config struct {
	Command       []string `hcl:"command,optional" description:"a command (argv, no shell) run inside the container until it exits 0"`
	TCP           []int    `hcl:"tcp,optional" description:"TCP ports that must be listening in the container's network namespace (read from the host)"`
	Systemd       string   `hcl:"systemd,optional" enum:"auto,off" default:"off" description:"\"auto\": when the container's init is systemd, systemctl is-system-running must say running; \"off\" (the default): no check"`
	AllowDegraded bool     `hcl:"allow_degraded,optional" description:"with systemd, accept degraded (a unit failed) as well as running, with a warning naming the failed units"`
	Wait          string   `hcl:"wait,optional" description:"how long the checks are retried until they all pass, e.g. \"2m\" (default 1m)"`
}

var schema = withOutputs(sdk.MustSchemaFromStruct(&config{}))

// withOutputs declares what the stage returns.
func withOutputs(s sdk.Schema) sdk.Schema {
	s.Outputs = []sdk.Output{
		{Name: "checks", Type: "string", Description: "the checks that passed, comma-separated"},
	}
	return s
}

type stage struct{}

func (stage) Schema() sdk.Schema { return schema }

// Validate checks each attribute that is known before the run.
func (stage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: "Invalid configuration", Detail: err.Error()}}
	}
	var diags sdk.Diagnostics
	if cfg.IsKnown("command") && c.Command != nil && (len(c.Command) == 0 || c.Command[0] == "") {
		diags = append(diags, sdk.Diagnostic{Summary: "Empty command", Detail: "command names the program to run first, e.g. [\"test\", \"-f\", \"/etc/ready\"].", Attribute: "command"})
	}
	if cfg.IsKnown("tcp") {
		for i, p := range c.TCP {
			if p < 1 || p > 65535 {
				diags = append(diags, sdk.Diagnostic{Summary: "Invalid port", Detail: fmt.Sprintf("%d is not a TCP port (1 to 65535).", p), Attribute: fmt.Sprintf("tcp[%d]", i)})
			}
		}
	}
	if cfg.IsKnown("systemd") && c.Systemd != "" && c.Systemd != SystemdAuto && c.Systemd != SystemdOff {
		diags = append(diags, sdk.Diagnostic{Summary: "Invalid systemd", Detail: fmt.Sprintf("systemd is %q; it must be \"auto\" or \"off\".", c.Systemd), Attribute: "systemd"})
	}
	if cfg.IsKnown("wait") && c.Wait != "" {
		if _, err := parseWait(c.Wait); err != nil {
			diags = append(diags, sdk.Diagnostic{Summary: "Invalid wait", Detail: err.Error(), Attribute: "wait"})
		}
	}
	return diags
}

func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return DefaultWait, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("wait is %q; it must be a positive duration such as \"30s\" or \"2m\"", s)
	}
	return d, nil
}

// Run retries the pending checks, one round a second, until every one has
// passed once or wait has run out. It changes nothing on disk (the
// command it runs inside the new container is the site's), so a failure
// needs no rollback of its own: the run rolls back the start and the swap.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode the configuration: %w", err)
	}
	wait, err := parseWait(c.Wait)
	if err != nil {
		return nil, err
	}
	checks, err := buildChecks(req, c)
	if err != nil {
		return nil, err
	}
	if len(checks) == 0 {
		req.UI.Log(sdk.LevelInfo, "no check to run")
		return &sdk.Result{Outputs: map[string]string{"checks": ""}}, nil
	}
	deadline := time.Now().Add(wait)
	waitCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	passed := 0
	for round := 1; ; round++ {
		for _, ch := range checks {
			if ch.passed {
				continue
			}
			if waitCtx.Err() != nil {
				break // keep the last outcome of the checks left
			}
			req.UI.Progress("waiting for "+ch.name, int64(passed), int64(len(checks)), "")
			if o := ch.run(waitCtx); !o.interrupted || ch.outcome.detail == "" {
				ch.outcome = o
			}
			switch {
			case ch.outcome.pass:
				ch.passed = true
				passed++
				req.UI.Log(sdk.LevelInfo, ch.name+": "+ch.outcome.detail)
			case !ch.reported && waitCtx.Err() == nil:
				// Said once, so that a log without progress shows what is awaited.
				ch.reported = true
				req.UI.Log(sdk.LevelInfo, fmt.Sprintf("%s: not yet (%s); retrying for up to %s", ch.name, ch.outcome.detail, wait))
			}
		}
		if passed == len(checks) {
			req.UI.Progress("all checks passed", int64(passed), int64(len(checks)), "")
			return &sdk.Result{Outputs: map[string]string{"checks": names(checks)}}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		select {
		case <-waitCtx.Done():
		case <-time.After(retryInterval):
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failure(checks, wait, round)
	}
}

// failure names every check that has not passed and its last output.
func failure(checks []*check, wait time.Duration, rounds int) error {
	var pending []string
	for _, ch := range checks {
		if !ch.passed {
			detail := ch.outcome.detail
			if detail == "" {
				detail = "not tried before wait ran out"
			}
			pending = append(pending, fmt.Sprintf("%s: %s", ch.name, detail))
		}
	}
	return fmt.Errorf("health check failed after %s (%d tries): %s", wait, rounds, strings.Join(pending, "; "))
}

func names(checks []*check) string {
	var n []string
	for _, ch := range checks {
		n = append(n, ch.kind)
	}
	return strings.Join(n, ",")
}

// errCheckTimedOut is a check's attempt cut short by the end of wait.
var errCheckTimedOut = errors.New("still running when wait ran out")
