package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/pipeline"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// adopt takes what the stage's plugin says of itself: its default timeout
// for the stage's kind and whether it describes its stages.
func (sr *stageRun) adopt(info pluginhost.Info) {
	sr.defaultTimeout = DefaultStageTimeout
	if d, ok := info.DefaultTimeouts[sr.stage.Kind]; ok {
		sr.defaultTimeout = max(d, 0) // sdk.NoTimeout: none
	}
	sr.describes = slices.Contains(info.Capabilities, sdk.CapabilityDescribe)
}

// timeout is the stage's timeout: the pipeline's, else its plugin's default
// (0: none).
func (sr *stageRun) timeout() time.Duration {
	if sr.stage.Timeout > 0 {
		return sr.stage.Timeout
	}
	return sr.defaultTimeout
}

// describe fills what stage i creates and does, as its plugin says; of a
// plugin that does not describe its stages, plan says only that it runs.
func (r *run) describe(ctx context.Context, p *pipeline.Pipeline, i int, cs *checkedStage, rc sdk.RunContext, running bool, ps *PlanStage) error {
	s := p.Stages[i]
	if !cs.run.describes || cs.config == nil {
		ps.Actions = append(ps.Actions, "runs in plugin "+s.Plugin)
		return nil
	}
	pl, err := r.plugin(ctx, s.Plugin)
	if err != nil {
		return err
	}
	var earlier []string
	for _, e := range p.Stages[:i] {
		earlier = append(earlier, e.Kind)
	}
	rc.StageName, rc.StageKind = s.Name, s.Kind
	unknown := append(slices.Clone(cs.unknown), cs.run.sensitive...) // as Validate sees them
	d, err := pl.Describe(ctx, s.Kind, pipeline.WithoutSensitive(cs.config, cs.run.sensitive), unknown, sdk.DescribeRequest{Context: rc, EarlierKinds: earlier, Running: running})
	if err != nil {
		return err
	}
	ps.Creates = append(ps.Creates, d.Creates...)
	ps.Actions = append(ps.Actions, d.Actions...)
	return nil
}

// placeFailure adds to a stage's failure where in the pipeline file the
// attribute it names is set (the plugin's sdk.ErrorAt), as file:line:col.
func placeFailure(s *pipeline.Stage, err error) error {
	var se *pluginhost.StageError
	if !errors.As(err, &se) {
		return err
	}
	for _, d := range se.Diagnostics {
		if d.Attribute == "" {
			continue
		}
		rng := pipeline.AttributeRange(s, d.Attribute)
		return fmt.Errorf("%w (%s is set at %s:%d:%d)", err, d.Attribute, rng.Filename, rng.Start.Line, rng.Start.Column)
	}
	return err
}
