package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// services is what the host serves a plugin process: the journal, the
// container through the runtime, and files confined to the private areas.
// It holds only what those services need, not the run: each call is bound
// to its calling stage through caller.
type services struct {
	// caller is the stage whose token the call carries; an error for a
	// stage that has returned.
	caller func(context.Context) (*stageRun, error)
	// record appends a record to the run's journal and fsyncs it.
	record func(journal.Record) error
	// container is the container the run works on, through its runtime.
	container containerAccess
	// newArea is the private area being built; oldArea the customer's old
	// one, wherever the swap or the container put it.
	newArea func() string
	oldArea func() (string, error)
	// emit forwards a stage's log line or progress as a run event.
	emit func(stage string, ev pluginhost.Event)
	// beforeExec is the crash-safety suite's hook (nothing in a release).
	beforeExec func()
}

// containerAccess is the container as host services reach it.
type containerAccess struct {
	runtime   runtime.Runtime
	ctid      int
	spec      func() runtime.Spec
	stopGrace time.Duration
}

// services gives the plugin processes of run r their host services.
func (r *run) services() *services {
	return &services{
		caller:     r.caller,
		record:     func(rec journal.Record) error { return r.journal.Append(rec) },
		container:  containerAccess{runtime: r.o.Runtime, ctid: r.ctid, spec: r.runtimeSpec, stopGrace: r.o.StopGrace},
		newArea:    r.newArea,
		oldArea:    r.oldArea,
		emit:       r.forward,
		beforeExec: r.faultDuringExec,
	}
}

var _ pluginhost.Services = (*services)(nil)

// Journal records a sub-step of the calling stage, fsynced before it returns.
func (s *services) Journal(ctx context.Context, step string, phase sdk.Phase, data map[string]string) error {
	cur, err := s.caller(ctx)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if phase != sdk.PhaseBegin && phase != sdk.PhaseDone {
		return fmt.Errorf("journal: phase %q is neither begin nor done", phase)
	}
	entry := sdk.JournalEntry{Stage: cur.stage.Name, Step: step, Phase: phase, Data: data}
	if err := s.record(journal.Record{Type: journal.RecordStep, Stage: cur.stage.Name, Kind: cur.stage.Kind, Step: step, Phase: string(phase), Data: data}); err != nil {
		return err
	}
	cur.entries = append(cur.entries, entry)
	return nil
}

// Exec runs a command inside the running container.
func (s *services) Exec(ctx context.Context, req sdk.ExecRequest) (int, error) {
	s.beforeExec()
	stdin := io.Reader(bytes.NewReader(req.Stdin))
	if req.StdinReader != nil {
		stdin = io.MultiReader(stdin, req.StdinReader)
	}
	return s.container.runtime.Exec(ctx, s.container.ctid, runtime.ExecRequest{
		Argv:   req.Argv,
		Env:    req.Env,
		Stdin:  stdin,
		Stdout: req.Stdout,
		Stderr: req.Stderr,
	})
}

// ReadFile reads a file of the new private area, never following a symlink.
func (s *services) ReadFile(_ context.Context, path string) ([]byte, error) {
	data, _, err := safefs.ReadFileBeneath(s.newArea(), path)
	return data, err
}

// WriteFile writes a file of the new private area, never following a symlink.
func (s *services) WriteFile(_ context.Context, path string, data []byte, mode os.FileMode, makeParents bool) error {
	return safefs.WriteFileBeneath(s.newArea(), path, data, mode, makeParents)
}

// Probe resolves a path as the container would, never out of the new area.
func (s *services) Probe(_ context.Context, path string) (sdk.Probe, error) {
	exists, isDir, exe, err := safefs.ProbeInRoot(s.newArea(), path)
	return sdk.Probe{Exists: exists, IsDir: isDir, Executable: exe}, err
}

// Start starts the container from VE_PRIVATE.
func (s *services) Start(ctx context.Context) error {
	return s.container.runtime.Start(ctx, s.container.spec())
}

// Stop stops the container (the run holds its lock).
// How the init was asked and whether the grace ran out become lines of the
// running stage's log.
func (s *services) Stop(ctx context.Context) error {
	cur, err := s.caller(ctx)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	stage := cur.stage.Name
	ctx = runtime.WithStopNote(ctx, func(level, msg string) {
		s.emit(stage, pluginhost.Event{Log: &pluginhost.LogLine{Level: sdk.Level(level), Message: msg}})
	})
	return s.container.runtime.Stop(ctx, s.container.ctid, s.container.stopGrace)
}

// Status reports running or stopped.
func (s *services) Status(ctx context.Context) (sdk.State, error) {
	st, err := s.container.runtime.Status(ctx, s.container.ctid)
	return sdk.State(st), err
}

// ListeningPorts lists the TCP ports listening in the container's network
// namespace, read by the runtime from the host.
func (s *services) ListeningPorts(ctx context.Context) ([]int, error) {
	return s.container.runtime.ListeningPorts(ctx, s.container.ctid)
}

// Secret returns a sensitive attribute of the calling stage: a stage gets
// only the secrets its own configuration holds.
func (s *services) Secret(ctx context.Context, name string) (string, error) {
	cur, err := s.caller(ctx)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	if !slices.Contains(cur.sensitive, name) {
		return "", fmt.Errorf("no sensitive attribute %q in stage %q", name, cur.stage.Name)
	}
	var attrs map[string]any
	if err := json.Unmarshal(cur.config, &attrs); err != nil {
		return "", err
	}
	v, _ := attrs[name].(string)
	return v, nil
}

// Emit forwards a plugin's log line or progress as an event of the stage
// that sent it (bound by its token).
func (s *services) Emit(stage string, ev pluginhost.Event) {
	s.emit(stage, ev)
}

// newArea is the private area being built: the temporary one before the
// exchange, VE_PRIVATE after it (told apart by the old area's inode).
func (r *run) newArea() string {
	var st unix.Stat_t
	if err := unix.Lstat(r.rc.Private, &st); err == nil && (st.Ino != r.origIno || st.Dev != r.origDev) {
		return r.rc.Private
	}
	return r.rc.PrivateTmp
}

// pluginEvents turns a stage's stream events into run events.
func (r *run) pluginEvents(s *pipeline.Stage) func(pluginhost.Event) {
	return func(ev pluginhost.Event) { r.forward(s.Name, ev) }
}

func (r *run) forward(stage string, ev pluginhost.Event) {
	var kind, plugin string
	if st := r.pipeline.Stage(stage); st != nil {
		kind, plugin = st.Kind, st.Plugin
	}
	switch {
	case ev.Log != nil:
		line := Event{Type: EventStageLog, Stage: stage, Kind: kind, Plugin: plugin, Level: stageLogLevel(string(ev.Log.Level)), Message: strings.TrimRight(ev.Log.Message, "\n")}
		if r.outputCaps.admit(line) {
			r.emit(line)
		}
	case ev.Progress != nil:
		r.emit(Event{Type: EventStageProgress, Stage: stage, Kind: kind, Plugin: plugin, Message: ev.Progress.Message, Done: ev.Progress.Done, Total: ev.Progress.Total, Unit: ev.Progress.Unit, Files: ev.Progress.Files})
	}
}

// stageLogLevel is a plugin's log level as events carry it: trace, debug,
// info, warn or error ("warning" is warn; anything else is info).
func stageLogLevel(level string) string {
	if strings.EqualFold(strings.TrimSpace(level), "warning") {
		return hclog.Warn.String()
	}
	switch l := hclog.LevelFromString(level); l {
	case hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error:
		return l.String()
	}
	return hclog.Info.String()
}

func (r *run) emit(ev Event) {
	ev.Message = r.secrets.String(ev.Message)
	ev.Error = r.secrets.String(ev.Error)
	ev.RunID = r.runID
	if ct, ok := r.host.LXCName(r.ctid); ok {
		ev.CT = ct
	} else {
		ev.CTID = r.ctid
	}
	if ev.Time.IsZero() {
		ev.Time = now()
	}
	r.o.Events(ev)
}
