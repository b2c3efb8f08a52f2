package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// stageServer serves the Stage service in the plugin: it converts requests
// into SDK calls on the plugin's stages. A stage's failure (error or panic)
// is a Result with its error set; gRPC errors are only for requests the
// plugin cannot serve at all, such as an unknown kind.
type stageServer struct {
	stagev1.UnimplementedStageServer
	// set is a plugin set's components by name; nil for one plugin (impl).
	set    map[string]*Plugin
	impl   *Plugin
	host   *hostDialer
	logger hclog.Logger
}

func newStageServer(p *Plugin, broker *plugin.GRPCBroker, logger hclog.Logger) *stageServer {
	return &stageServer{impl: p, host: &hostDialer{broker: broker}, logger: logger}
}

// forComponent is the server of one component of a plugin set, or s itself
// for "" on a binary serving one plugin.
func (s *stageServer) forComponent(name string) (*stageServer, error) {
	if s.set == nil {
		if name != "" {
			return nil, statusError(codes.NotFound, fmt.Sprintf("plugin %s is not a plugin set: it has no component %q", s.impl.Name, name))
		}
		return s, nil
	}
	p, ok := s.set[name]
	if !ok {
		return nil, statusError(codes.NotFound, fmt.Sprintf("this plugin set has no component %q (it has %v)", name, s.components()))
	}
	c := *s
	c.set, c.impl = nil, p
	return &c, nil
}

// components lists a plugin set's component names, sorted.
func (s *stageServer) components() []string {
	var names []string
	for n := range s.set {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *stageServer) GetInfo(_ context.Context, req *stagev1.GetInfoRequest) (*stagev1.GetInfoResponse, error) {
	if s.set != nil && req.GetComponent() == "" {
		return &stagev1.GetInfoResponse{Components: s.components(), SdkVersion: SDKVersion}, nil
	}
	s, err := s.forComponent(req.GetComponent())
	if err != nil {
		return nil, err
	}
	return &stagev1.GetInfoResponse{
		Name:              s.impl.Name,
		Version:           s.impl.Version,
		Kinds:             s.kinds(),
		Capabilities:      s.impl.capabilities(),
		SdkVersion:        SDKVersion,
		DefaultTimeoutsMs: defaultTimeoutsToProto(s.impl.DefaultTimeouts),
	}, nil
}

func (s *stageServer) GetSchema(_ context.Context, req *stagev1.GetSchemaRequest) (*stagev1.GetSchemaResponse, error) {
	s, st, err := s.componentStage(req.GetComponent(), req.GetKind())
	if err != nil {
		return nil, err
	}
	var schema Schema
	if err := s.guard("Schema", req.GetKind(), func() error { schema = st.Schema(); return nil }); err != nil {
		return nil, statusError(codes.Internal, err.Error())
	}
	return &stagev1.GetSchemaResponse{Schema: schemaToProto(schema)}, nil
}

func (s *stageServer) Validate(ctx context.Context, req *stagev1.ValidateRequest) (*stagev1.ValidateResponse, error) {
	s, st, err := s.componentStage(req.GetComponent(), req.GetKind())
	if err != nil {
		return nil, err
	}
	var diags Diagnostics
	err = s.guard("Validate", req.GetKind(), func() error {
		diags = st.Validate(ctx, NewConfig(req.GetConfigJson(), req.GetUnknown()))
		return nil
	})
	if err != nil {
		return nil, statusError(codes.Internal, err.Error())
	}
	return &stagev1.ValidateResponse{Diagnostics: diagnosticsToProto(diags)}, nil
}

func (s *stageServer) Run(req *stagev1.RunRequest, stream stagev1.Stage_RunServer) error {
	s, st, err := s.componentStage(req.GetComponent(), req.GetKind())
	if err != nil {
		return err
	}
	rc := runContextFromProto(req.GetContext())
	host, err := s.host.forStage(rc.StageName, req.GetContext().GetHostServicesId(), req.GetContext().GetHostCapabilities(), req.GetContext().GetStageToken())
	ui := newStreamUI(stream.Send, host, s.logger)
	if err != nil {
		return ui.finish(resultEvent(nil, err))
	}
	var res *Result
	err = s.guard("Run", rc.StageName, func() (err error) {
		res, err = st.Run(stream.Context(), &RunRequest{
			Config:  NewConfig(req.GetConfigJson(), nil),
			Context: rc,
			Host:    host,
			UI:      ui,
			Logger:  s.logger.Named(rc.StageName),
		})
		return err
	})
	return ui.finish(resultEvent(res, err))
}

func (s *stageServer) Rollback(req *stagev1.RollbackRequest, stream stagev1.Stage_RollbackServer) error {
	s, st, err := s.componentStage(req.GetComponent(), req.GetKind())
	if err != nil {
		return err
	}
	rc := runContextFromProto(req.GetContext())
	host, err := s.host.forStage(rc.StageName, req.GetContext().GetHostServicesId(), req.GetContext().GetHostCapabilities(), req.GetContext().GetStageToken())
	ui := newStreamUI(stream.Send, host, s.logger)
	if err != nil {
		return ui.finish(resultEvent(nil, err))
	}
	rb, ok := st.(Rollbacker)
	if !ok {
		// Nothing to undo: the stage changes nothing it would need to.
		return ui.finish(resultEvent(nil, nil))
	}
	err = s.guard("Rollback", rc.StageName, func() error {
		return rb.Rollback(stream.Context(), &RollbackRequest{
			Config:  NewConfig(req.GetConfigJson(), nil),
			Context: rc,
			Host:    host,
			UI:      ui,
			Logger:  s.logger.Named(rc.StageName),
			Entries: journalFromProto(req.GetEntries()),
		})
	})
	return ui.finish(resultEvent(nil, err))
}

// guard runs a stage method and turns a panic into an error, logging the
// stack: a bug in one stage must fail that stage, not the plugin process.
func (s *stageServer) guard(method, stage string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("stage panicked", "method", method, "stage", stage, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("plugin %s panicked in %s: %v", s.impl.Name, method, r)
		}
	}()
	return fn()
}

// componentStage is the server of the component a request names (the
// plugin itself when it names none) and its stage of kind.
func (s *stageServer) componentStage(component, kind string) (*stageServer, Stage, error) {
	s, err := s.forComponent(component)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.stage(kind)
	if err != nil {
		return nil, nil, err
	}
	return s, st, nil
}

func (s *stageServer) stage(kind string) (Stage, error) {
	st, ok := s.impl.Stages[kind]
	if !ok || st == nil {
		return nil, statusError(codes.NotFound, fmt.Sprintf("plugin %s serves no %q stage (it serves %v)", s.impl.Name, kind, s.kinds()))
	}
	return st, nil
}

func (s *stageServer) kinds() []string {
	var kinds []string
	for k := range s.impl.Stages {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// streamUI sends a stage's log lines and progress on its Run stream. Sends
// are serialised (a stage may log from several goroutines); what arrives
// after the stream's result goes through HostServices.Emit instead.
type streamUI struct {
	mu     sync.Mutex
	send   func(*stagev1.Event) error
	host   *hostClient
	logger hclog.Logger
	done   bool
}

func newStreamUI(send func(*stagev1.Event) error, host *hostClient, logger hclog.Logger) *streamUI {
	return &streamUI{send: send, host: host, logger: logger}
}

func (u *streamUI) Log(level Level, msg string) { u.emit(logEvent(level, msg)) }

func (u *streamUI) Progress(msg string, done, total int64, unit string) {
	u.emit(progressEvent(Progress{Message: msg, Done: done, Total: total, Unit: unit}))
}

func (u *streamUI) Report(p Progress) { u.emit(progressEvent(p)) }

func (u *streamUI) emit(ev *stagev1.Event) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var err error
	if u.done {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = u.host.emit(ctx, ev)
	} else {
		err = u.send(ev)
	}
	if err != nil {
		u.logger.Debug("stage event dropped", "event", ev.String(), "error", err)
	}
}

// finish sends the stream's last event; later UI calls go to Emit.
func (u *streamUI) finish(last *stagev1.Event) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.done = true
	return u.send(last)
}
