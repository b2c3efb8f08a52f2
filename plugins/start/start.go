package start

import (
	"context"
	"fmt"
	"time"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Plugin returns the start plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "start", Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindStart: stage{}},
		DefaultTimeouts: map[string]time.Duration{sdk.KindStart: defaultTimeout}}
}

type stage struct{}

// outputs are what the stage returns.
var outputs = []sdk.Output{
	{Name: "state", Type: "string", Description: "the container's state after the stage: running"},
}

func (stage) Schema() sdk.Schema                                   { return sdk.Schema{Outputs: outputs} }
func (stage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

// Run starts the container; its init runs as pid 1 in its own namespaces.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	if err := req.Host.Journal(ctx, "start", sdk.PhaseBegin, nil); err != nil {
		return nil, err
	}
	if err := req.Host.Start(ctx); err != nil {
		return nil, fmt.Errorf("start the container: %w", err)
	}
	if err := req.Host.Journal(ctx, "start", sdk.PhaseDone, nil); err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: map[string]string{"state": "running"}}, nil
}

// Rollback stops the container if this stage may have started it.
func (stage) Rollback(ctx context.Context, req *sdk.RollbackRequest) error {
	if len(req.Entries) == 0 {
		return nil
	}
	if err := req.Host.Stop(ctx); err != nil {
		return fmt.Errorf("stop the new container: %w", err)
	}
	return nil
}
