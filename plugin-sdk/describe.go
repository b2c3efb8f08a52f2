package sdk

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// CapabilityDescribe is announced by a plugin whose stages answer Describe;
// the SDK adds it when any stage implements Describer.
const CapabilityDescribe = "describe"

// NoTimeout, as a Plugin.DefaultTimeouts value, gives a stage kind no
// default timeout (the stage runs until it ends unless the pipeline sets one).
const NoTimeout time.Duration = -1

// Describer is implemented by stages that say what they would create and
// do, which `reinstall plan` shows; a stage without it is shown as
// "runs in plugin <name>".
type Describer interface {
	Describe(ctx context.Context, req *DescribeRequest) (Description, error)
}

// DescribeRequest is what Describe gets: the stage's configuration (values
// not known before the run are unknown, Config.IsKnown) and the run as plan
// sees it, before any stage has run.
type DescribeRequest struct {
	Config  Config
	Context RunContext
	// EarlierKinds are the kinds of the pipeline's stages before this one.
	EarlierKinds []string
	// Running tells whether the container runs now.
	Running bool
}

// HasEarlier reports whether a stage of kind comes before this one.
func (r *DescribeRequest) HasEarlier(kind string) bool { return slices.Contains(r.EarlierKinds, kind) }

// Description is what a stage would do.
type Description struct {
	// Creates lists the paths the stage creates.
	Creates []string
	// Actions says what it does, one sentence each.
	Actions []string
}

// Describe asks the plugin what a stage would do (host side). Call it only
// on a plugin announcing CapabilityDescribe.
func (c *StageClient) Describe(ctx context.Context, kind string, configJSON []byte, unknown []string, req DescribeRequest) (Description, error) {
	resp, err := c.stage.Describe(ctx, &stagev1.DescribeRequest{
		Kind: kind, Component: c.component, ConfigJson: configJSON, Unknown: unknown,
		Context:      runContextToProto(req.Context, 0),
		EarlierKinds: req.EarlierKinds,
		Running:      req.Running,
	})
	if err != nil {
		return Description{}, err
	}
	return Description{Creates: resp.GetCreates(), Actions: resp.GetActions()}, nil
}

// Describe serves a stage's Describe (plugin side).
func (s *stageServer) Describe(ctx context.Context, req *stagev1.DescribeRequest) (*stagev1.DescribeResponse, error) {
	s, st, err := s.componentStage(req.GetComponent(), req.GetKind())
	if err != nil {
		return nil, err
	}
	d, ok := st.(Describer)
	if !ok {
		return &stagev1.DescribeResponse{}, nil
	}
	var desc Description
	err = s.guard("Describe", req.GetKind(), func() error {
		var err error
		desc, err = d.Describe(ctx, &DescribeRequest{
			Config:       NewConfig(req.GetConfigJson(), req.GetUnknown()),
			Context:      runContextFromProto(req.GetContext()),
			EarlierKinds: req.GetEarlierKinds(),
			Running:      req.GetRunning(),
		})
		return err
	})
	if err != nil {
		return nil, statusError(codes.Internal, err.Error())
	}
	return &stagev1.DescribeResponse{Creates: desc.Creates, Actions: desc.Actions}, nil
}

// capabilities are the plugin's own plus those the SDK implements for it.
func (p *Plugin) capabilities() []string {
	caps := slices.Clone(p.Capabilities)
	for _, st := range p.Stages {
		if _, ok := st.(Describer); ok && !slices.Contains(caps, CapabilityDescribe) {
			caps = append(caps, CapabilityDescribe)
		}
	}
	return caps
}

// defaultTimeoutsToProto are Plugin.DefaultTimeouts in milliseconds (-1: none).
func defaultTimeoutsToProto(m map[string]time.Duration) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for kind, d := range m {
		if d < 0 {
			out[kind] = -1
			continue
		}
		out[kind] = d.Milliseconds()
	}
	return out
}

func defaultTimeoutsFromProto(m map[string]int64) map[string]time.Duration {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(m))
	for kind, ms := range m {
		if ms < 0 {
			out[kind] = NoTimeout
			continue
		}
		out[kind] = time.Duration(ms) * time.Millisecond
	}
	return out
}
