package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// StageClient is the host's side of the stage protocol, as go-plugin's
// Dispense returns it. Plugins never use it; reinstall's plugin host and
// sdktest do. Its errors are the gRPC errors of the calls: telling a crash
// from a refusal is the caller's job.
type StageClient struct {
	stage  stagev1.StageClient
	broker *plugin.GRPCBroker
	// component is the plugin set's component every call names ("": the
	// binary's only plugin).
	component string
	// hosting is shared by every component of one process.
	*hosting
}

// hosting is the host services served to one plugin process.
type hosting struct {
	hostMu sync.Mutex
	hostID uint32
	host   *hostServer
}

// Component is a client of one component of a plugin set served by the
// same process (sdk.ServeSet): its calls name the component. The host
// services stay those of the process.
func (c *StageClient) Component(name string) *StageClient {
	return &StageClient{stage: c.stage, broker: c.broker, component: name, hosting: c.hosting}
}

// Info is what a plugin says about itself.
type Info struct {
	Name         string
	Version      string
	Kinds        []string
	Capabilities []string
	SDKVersion   string
	// Components are a plugin set's component names (asked of the set
	// itself, not of a component: then only SDKVersion is set besides).
	Components []string
	// DefaultTimeouts are the kinds' default timeouts (NoTimeout: none).
	DefaultTimeouts map[string]time.Duration
}

// ServeHost sets the host services served to the plugin through the
// go-plugin broker; only the first call has an effect. The server starts
// with the first Run or Rollback (a plugin only validated never needs it)
// and serves every later one: one HostServices server per plugin process.
func (c *StageClient) ServeHost(h HostServer) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if c.host == nil && h != nil {
		c.host = &hostServer{h: h}
	}
}

// hostServices starts the host services once and returns their broker id
// (0 if ServeHost was never called) and a token for one call of stage,
// with the func that ends it.
func (c *StageClient) hostServices(stage string) (uint32, string, func()) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if c.host == nil {
		return 0, "", func() {}
	}
	token, done := c.host.tokens.issue(stage)
	if c.hostID == 0 {
		c.hostID = c.broker.NextId()
		host := c.host
		go c.broker.AcceptAndServe(c.hostID, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(append(opts, host.tokens.interceptors()...)...)
			stagev1.RegisterHostServicesServer(s, host)
			return s
		})
	}
	return c.hostID, token, done
}

// Info asks the plugin for its name, version and stage kinds.
func (c *StageClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.stage.GetInfo(ctx, &stagev1.GetInfoRequest{Component: c.component})
	if err != nil {
		return Info{}, err
	}
	return Info{
		Name:            resp.GetName(),
		Version:         resp.GetVersion(),
		Kinds:           resp.GetKinds(),
		Capabilities:    resp.GetCapabilities(),
		SDKVersion:      resp.GetSdkVersion(),
		Components:      resp.GetComponents(),
		DefaultTimeouts: defaultTimeoutsFromProto(resp.GetDefaultTimeoutsMs()),
	}, nil
}

// Schema returns the schema of one stage kind's body.
func (c *StageClient) Schema(ctx context.Context, kind string) (Schema, error) {
	resp, err := c.stage.GetSchema(ctx, &stagev1.GetSchemaRequest{Kind: kind, Component: c.component})
	if err != nil {
		return Schema{}, err
	}
	return schemaFromProto(resp.GetSchema()), nil
}

// Validate lets the plugin check a decoded stage body.
func (c *StageClient) Validate(ctx context.Context, kind string, configJSON []byte, unknown []string) (Diagnostics, error) {
	resp, err := c.stage.Validate(ctx, &stagev1.ValidateRequest{Kind: kind, Component: c.component, ConfigJson: configJSON, Unknown: unknown})
	if err != nil {
		return nil, err
	}
	return diagnosticsFromProto(resp.GetDiagnostics()), nil
}

// Outcome is how a Run or Rollback stream ended: with the stage's result,
// or with its failure reason.
type Outcome struct {
	Result  *Result
	Failure string
	// Diagnostics place a failure in the stage's configuration (an
	// AttributeError's attribute path).
	Diagnostics Diagnostics
}

// ErrNoResult is returned when a stream ends cleanly without its Result.
var ErrNoResult = errors.New("the stage's stream ended without a result")

// Run runs a stage, passing its log lines and progress to onEvent (if not
// nil) as they arrive.
func (c *StageClient) Run(ctx context.Context, kind string, configJSON []byte, rc RunContext, onEvent func(Event)) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pc, done := c.runContext(rc)
	defer done() // the stage's host-service calls end with it
	stream, err := c.stage.Run(ctx, &stagev1.RunRequest{Kind: kind, Component: c.component, ConfigJson: configJSON, Context: pc})
	if err != nil {
		return Outcome{}, err
	}
	return receive(stream, rc.StageName, onEvent)
}

// Rollback asks a stage to undo what its journal entries record.
func (c *StageClient) Rollback(ctx context.Context, kind string, configJSON []byte, rc RunContext, entries []JournalEntry, onEvent func(Event)) (Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pc, done := c.runContext(rc)
	defer done()
	stream, err := c.stage.Rollback(ctx, &stagev1.RollbackRequest{
		Kind: kind, Component: c.component, ConfigJson: configJSON, Context: pc, Entries: journalToProto(entries),
	})
	if err != nil {
		return Outcome{}, err
	}
	return receive(stream, rc.StageName, onEvent)
}

// runContext is rc for one stage call, with the host services' id and the
// call's stage token; done ends the token.
func (c *StageClient) runContext(rc RunContext) (_ *stagev1.RunContext, done func()) {
	id, token, done := c.hostServices(rc.StageName)
	pc := runContextToProto(rc, id)
	pc.StageToken = token
	return pc, done
}

// receive reads a stage's stream up to its Result.
func receive(stream interface {
	Recv() (*stagev1.Event, error)
}, stage string, onEvent func(Event)) (Outcome, error) {
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return Outcome{}, fmt.Errorf("stage %s: %w", stage, ErrNoResult)
		}
		if err != nil {
			return Outcome{}, err
		}
		if r, ok := ev.GetEvent().(*stagev1.Event_Result); ok {
			if msg := r.Result.GetError(); len(msg) > 0 {
				return Outcome{Failure: string(msg), Diagnostics: diagnosticsFromProto(r.Result.GetDiagnostics())}, nil
			}
			return Outcome{Result: resultFromProto(r.Result)}, nil
		}
		if e, ok := eventFromProto(stage, ev); ok && onEvent != nil {
			onEvent(e)
		}
	}
}
