package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

const (
	// crashReportLines is how many unshown stderr lines a crash report logs.
	crashReportLines = 10
	// crashWait is how long a failed call waits for the process to turn out
	// dead before the failure is judged a crash or a plain error.
	crashWait = 2 * time.Second
	// closeGrace bounds go-plugin's graceful shutdown (it waits 2s for the
	// process to exit) before the process group is killed regardless.
	closeGrace = 3 * time.Second
)

// Plugin is one running plugin process.
type Plugin struct {
	name   string
	client *plugin.Client
	proc   *process
	stage  *sdk.StageClient
	out    *pluginOutput
	logger hclog.Logger
	// bin is an external plugin's open file, which the process was executed
	// from; it stays open while the plugin runs (a script's interpreter
	// reads it by that name).
	bin *os.File

	// The process's lifecycle, shared by the views of its components.
	*lifecycle
}

type lifecycle struct {
	closeOnce sync.Once
	closed    atomic.Bool
}

// Component is a view of one component of the plugin set this process
// serves (sdk.ServeSet), named <name>.<component>: its calls name the
// component; the process, its host services and its Close are shared.
func (p *Plugin) Component(name string) *Plugin {
	c := *p
	c.name = p.name + "." + name
	c.stage = p.stage.Component(name)
	return &c
}

// Info is what a plugin says about itself, plus the negotiated protocol.
type Info struct {
	Name         string
	Version      string
	Kinds        []string
	Capabilities []string
	SDKVersion   string
	Protocol     int
	// Components are a plugin set's components (asked of the set, not of
	// one of its components).
	Components []string
	// DefaultTimeouts are the kinds' default timeouts (sdk.NoTimeout: none).
	DefaultTimeouts map[string]time.Duration
}

// Name is the plugin's name as launched.
func (p *Plugin) Name() string { return p.name }

// Pid is the plugin process's pid (also its process group id).
func (p *Plugin) Pid() int {
	p.proc.mu.Lock()
	defer p.proc.mu.Unlock()
	return p.proc.pid
}

// Alive reports whether the process still runs and has not been closed.
func (p *Plugin) Alive() bool { return !p.closed.Load() && !p.client.Exited() }

// Info asks the plugin for its name, version and stage kinds.
func (p *Plugin) Info(ctx context.Context) (Info, error) {
	i, err := p.stage.Info(ctx)
	if err != nil {
		return Info{}, p.callError(ctx, "GetInfo", err)
	}
	return Info{
		Name:         i.Name,
		Version:      i.Version,
		Kinds:        i.Kinds,
		Capabilities: i.Capabilities,
		SDKVersion:   i.SDKVersion,
		Protocol:     p.client.NegotiatedVersion(),
		Components:   i.Components,

		DefaultTimeouts: i.DefaultTimeouts,
	}, nil
}

// Describe asks the plugin what a stage would create and do (for plan);
// call it only on a plugin announcing sdk.CapabilityDescribe.
func (p *Plugin) Describe(ctx context.Context, kind string, configJSON []byte, unknown []string, req sdk.DescribeRequest) (sdk.Description, error) {
	d, err := p.stage.Describe(ctx, kind, configJSON, unknown, req)
	if err != nil {
		return sdk.Description{}, p.callError(ctx, "Describe("+kind+")", err)
	}
	return d, nil
}

// Schema returns the schema of one stage kind's body.
func (p *Plugin) Schema(ctx context.Context, kind string) (sdk.Schema, error) {
	s, err := p.stage.Schema(ctx, kind)
	if err != nil {
		return sdk.Schema{}, p.callError(ctx, "GetSchema("+kind+")", err)
	}
	return s, nil
}

// Validate lets the plugin check a decoded stage body; unknown lists the
// attributes whose values are not known before the run.
func (p *Plugin) Validate(ctx context.Context, kind string, configJSON []byte, unknown []string) (sdk.Diagnostics, error) {
	d, err := p.stage.Validate(ctx, kind, configJSON, unknown)
	if err != nil {
		return nil, p.callError(ctx, "Validate("+kind+")", err)
	}
	return d, nil
}

// Run runs a stage; its log lines and progress go to onEvent as they arrive.
// A failure the stage reports is a *StageError; a process that dies during
// the stage is a *CrashError. If ctx ends first, the stream is cancelled,
// the plugin gets a short grace to stop, its process group is killed, and
// the error wraps ctx.Err(). After a crash or a cancellation the Plugin is
// closed: launch it again for the next call.
func (p *Plugin) Run(ctx context.Context, kind string, configJSON []byte, rc sdk.RunContext, onEvent func(Event)) (*sdk.Result, error) {
	out, err := p.stream(ctx, rc.StageName, func() (sdk.Outcome, error) {
		return p.stage.Run(ctx, kind, configJSON, rc, onEvent)
	})
	if err != nil {
		return nil, err
	}
	return out.Result, nil
}

// Rollback asks a stage to undo what its journal entries record, with the
// same error kinds as Run.
func (p *Plugin) Rollback(ctx context.Context, kind string, configJSON []byte, rc sdk.RunContext, entries []sdk.JournalEntry, onEvent func(Event)) error {
	_, err := p.stream(ctx, rc.StageName, func() (sdk.Outcome, error) {
		return p.stage.Rollback(ctx, kind, configJSON, rc, entries, onEvent)
	})
	return err
}

// stream runs a Run or Rollback call and classifies how it ended.
func (p *Plugin) stream(ctx context.Context, stage string, call func() (sdk.Outcome, error)) (sdk.Outcome, error) {
	if p.closed.Load() {
		return sdk.Outcome{}, fmt.Errorf("plugin %s: stage %s: %w", p.name, stage, ErrClosed)
	}
	out, err := call()
	switch {
	case err == nil && out.Failure == "":
		return out, nil
	case ctxEnded(ctx) != nil:
		// Checked before the stage's own failure: a stage that honours its
		// context may report "context deadline exceeded" as a result before
		// the stream sees the deadline, and that is still a timeout.
		// The stream is cancelled already; Close asks the plugin to exit,
		// waits briefly, then kills its process group.
		_ = p.Close()
		return out, fmt.Errorf("plugin %s: stage %s stopped: %w", p.name, stage, ctxEnded(ctx))
	case err == nil:
		return out, &StageError{Plugin: p.name, Stage: stage, Reason: out.Failure, Diagnostics: out.Diagnostics}
	case p.crashed(err):
		_ = p.Close() // also completes the stderr tail
		p.logStderrTail(stage)
		return out, &CrashError{
			Plugin:     p.name,
			Stage:      stage,
			StderrTail: p.out.Lines(),
			ExitStatus: p.proc.exitStatus(),
			summary:    p.out.summary(),
		}
	}
	return out, fmt.Errorf("plugin %s: stage %s: %w", p.name, stage, readable(err))
}

// crashed tells a dead plugin from one that refused a call. A status the
// plugin's handlers return (NotFound, InvalidArgument...) means it is alive;
// for transport-like failures the process gets a moment to turn out dead.
func (p *Plugin) crashed(err error) bool {
	if p.proc.waitExit(0) {
		return true
	}
	switch code := status.Code(err); {
	case errors.Is(err, sdk.ErrNoResult), code == codes.Canceled, code == codes.Unknown, code == codes.Internal:
		return p.proc.waitExit(crashWait)
	case code == codes.Unavailable:
		return true
	}
	return false
}

// callError wraps a failed unary call; a dead process is reported as such.
func (p *Plugin) callError(ctx context.Context, what string, err error) error {
	if p.closed.Load() {
		return fmt.Errorf("plugin %s: %s: %w", p.name, what, ErrClosed)
	}
	if err := ctxEnded(ctx); err != nil {
		return fmt.Errorf("plugin %s: %s: %w", p.name, what, err)
	}
	if p.crashed(err) {
		_ = p.Close()
		return fmt.Errorf("plugin %s crashed during %s%s", p.name, what, detail(p.out.summary(), p.proc.exitStatus()))
	}
	return fmt.Errorf("plugin %s: %s: %w", p.name, what, readable(err))
}

// ctxEnded is ctx.Err(), or DeadlineExceeded once ctx's deadline has
// passed: gRPC sees a deadline pass (and fails the call) before the
// context's own timer has marked it done.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// readable strips gRPC's "rpc error: code = ... desc =" from a plugin's
// error message; the code stays available through status.Code.
func readable(err error) error {
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK {
		return &rpcError{st: st}
	}
	return err
}

type rpcError struct{ st *status.Status }

func (e *rpcError) Error() string              { return e.st.Message() }
func (e *rpcError) GRPCStatus() *status.Status { return e.st }

// Close stops the plugin: a graceful shutdown first, then SIGKILL to its
// process group. It waits until the process is reaped and is idempotent.
func (p *Plugin) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		done := make(chan struct{})
		go func() {
			p.client.Kill()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(closeGrace):
			p.proc.kill()
			<-done
		}
		p.proc.kill() // whatever the plugin left in its process group
		if p.bin != nil {
			p.bin.Close()
		}
	})
	return nil
}

// logStderrTail logs the last lines of a crashed plugin's own that the
// operator's logger has not shown live (those below its level), so the
// crash report above the error line has the plugin's last words. A panic
// is its own report: its first line ends the error, its stack is in the log.
func (p *Plugin) logStderrTail(stage string) {
	lines := p.out.unshown()
	if len(lines) == 0 || p.out.panicked() {
		return
	}
	if len(lines) > crashReportLines {
		lines = lines[len(lines)-crashReportLines:]
	}
	p.logger.Named(p.name).Error(fmt.Sprintf("crashed during stage %s; its last lines", stage), "stderr", strings.Join(lines, "\n"))
}
