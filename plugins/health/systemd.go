package health

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// systemd's overall states (systemctl is-system-running).
const (
	systemRunning  = "running"
	systemDegraded = "degraded"
)

// systemdCheck passes when systemctl is-system-running inside the
// container says running, or degraded if allowDegraded (then with a
// warning naming the failed units). Any other state (initializing,
// starting, maintenance, stopping…) is retried.
func systemdCheck(req *sdk.RunRequest, allowDegraded bool) *check {
	return &check{kind: "systemd", name: "systemd", run: func(ctx context.Context) outcome {
		var stdout bytes.Buffer
		stderr := &tailBuffer{max: maxOutput}
		code, err := req.Host.Exec(ctx, sdk.ExecRequest{
			Argv: []string{"systemctl", "is-system-running"}, Env: env(req.Context.CTID),
			Stdout: &stdout, Stderr: stderr,
		})
		switch {
		case waitRanOut(ctx, err):
			return outcome{detail: "systemctl is-system-running: " + errCheckTimedOut.Error() + stderr.suffix(), interrupted: true}
		case err != nil:
			return outcome{detail: err.Error()}
		}
		state, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), "\n")
		switch state {
		case systemRunning:
			return outcome{pass: true, detail: "running"}
		case systemDegraded:
			failed := failedUnits(ctx, req)
			if allowDegraded {
				req.UI.Log(sdk.LevelWarn, "systemd is degraded (allowed): failed units: "+failed)
				return outcome{pass: true, detail: "degraded (allowed), failed units: " + failed}
			}
			return outcome{detail: "degraded, failed units: " + failed, interrupted: ctx.Err() != nil}
		case "":
			return outcome{detail: fmt.Sprintf("systemctl is-system-running exit %d%s", code, stderr.suffix())}
		}
		return outcome{detail: state}
	}}
}

// failedUnits lists the units systemd has marked failed, or says why it
// cannot.
func failedUnits(ctx context.Context, req *sdk.RunRequest) string {
	var stdout bytes.Buffer
	code, err := req.Host.Exec(ctx, sdk.ExecRequest{
		Argv: []string{"systemctl", "list-units", "--state=failed", "--no-legend", "--plain", "--full"},
		Env:  env(req.Context.CTID), Stdout: &stdout,
	})
	if err != nil || code != 0 {
		return "(systemctl list-units failed)"
	}
	var units []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			units = append(units, f[0])
		}
	}
	if len(units) == 0 {
		return "(none listed)"
	}
	return strings.Join(units, ", ")
}
