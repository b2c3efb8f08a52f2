package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/redact"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// run is one reinstall in progress.
type run struct {
	o    Options
	host *vz.Host
	lock *vz.Lock
	ctid int
	// releaseRuntimeLock drops the container manager's own lock (LXC's).
	releaseRuntimeLock func()
	ct                 *vz.Container
	pipeline           *pipeline.Pipeline
	rc                 sdk.RunContext
	runID              string
	wasRunning         bool
	cgroup             *runCgroup
	launcher           *pluginhost.Launcher
	plugins            map[string]*pluginhost.Plugin
	stages             []*stageRun
	journal            *journal.Journal
	// origIno/origDev identify the old private area's directory, so the host
	// can tell which area sits at VE_PRIVATE at any moment.
	origIno, origDev uint64
	current          *stageRun
	// continued names the stages that failed and were continued past.
	continued []string
	// secrets are hidden in everything the run emits.
	secrets *redact.Secrets
	// outputCaps bounds what each stage prints.
	outputCaps outputCaps
	// calls are the stages whose plugin call is in progress.
	calls stageCalls
}

// secretsOf is the caller's secret set, or a new one.
func secretsOf(o Options) *redact.Secrets {
	if o.Secrets != nil {
		return o.Secrets
	}
	return &redact.Secrets{}
}

// stageRun is a stage's state within the run.
type stageRun struct {
	stage     *pipeline.Stage
	spec      hcldec.ObjectSpec
	sensitive []string
	// derived names the attributes computed from sensitive variables.
	derived []string
	// declared are the outputs the plugin's schema declares (non-nil once
	// the schema is known).
	declared []sdk.Output
	config   []byte
	started  bool
	outputs  map[string]string
	// reprovision: the stage asked for the temporary area to be provisioned again.
	reprovision bool
	// defaultTimeout is the plugin's default for the kind (0: none);
	// describes: the plugin answers Describe (adopt).
	defaultTimeout time.Duration
	describes      bool
	entries        []sdk.JournalEntry
}

// execute runs every stage in order. A failure before the point of no
// return rolls back every started stage in reverse order.
func (r *run) execute(ctx context.Context) error {
	start := time.Now()
	if err := r.begin(); err != nil {
		return err
	}
	r.emit(Event{Type: EventRunStarted, Command: "reinstall", Pipeline: r.pipeline.Name, Count: len(r.stages)})
	commitAt := r.commitIndex()
	for i := 0; i < len(r.stages); i++ {
		sr := r.stages[i]
		if i == commitAt {
			if err := r.journal.Append(journal.Record{Type: journal.RecordCommit}); err != nil {
				return r.fail(sr.stage.Name, err)
			}
			if err := r.writeOSTemplate(); err != nil {
				return r.failPastCommit(err)
			}
		}
		ran, err := r.runStage(ctx, i)
		if err != nil {
			if i >= commitAt {
				// Past the point of no return nothing is rolled back: recovery
				// finishes the job.
				r.journal.Close()
				r.journal = nil
				return &Error{Code: ExitRecover, Stage: sr.stage.Name, Err: fmt.Errorf(
					"%v; the new container is in place, run `%s` to finish", err, recoverCommand(r.host, r.ctid))}
			}
			if sr.stage.OnFailure == pipeline.OnFailureContinue {
				r.o.Logger.Warn("stage failed; continuing as its on_failure says", "stage", sr.stage.Name, "error", err)
				r.continued = append(r.continued, sr.stage.Name)
				continue
			}
			return r.fail(sr.stage.Name, err)
		}
		if ran && sr.outputs != nil && sr.reprovision {
			if err := r.reprovision(ctx, i); err != nil {
				return r.fail(sr.stage.Name, err)
			}
		}
	}
	if commitAt == len(r.stages) {
		if err := r.journal.Append(journal.Record{Type: journal.RecordCommit}); err != nil {
			return r.fail(StagePreflight, err)
		}
		if err := r.writeOSTemplate(); err != nil {
			return r.failPastCommit(err)
		}
	}
	if err := r.journal.Finish(); err != nil {
		return &Error{Code: ExitRecover, Stage: "journal", Err: err}
	}
	r.journal = nil
	r.emit(Event{Type: EventRunFinished, Duration: time.Since(start), State: r.state(ctx), ContinuedPast: r.continued})
	return nil
}

// begin creates the journal: the first change on disk.
func (r *run) begin() error {
	j, err := journal.Create(r.host.JournalPath(r.ctid))
	if err != nil {
		return &Error{Code: ExitRefused, Stage: StagePreflight, Err: err}
	}
	r.journal = j
	j.OnAppend(r.faultAfterRecord)
	plugins, err := recordPlugins(r.host, r.pipeline)
	if err != nil {
		return r.abandonJournal(err)
	}
	hdr := &journal.Header{
		Format:         journal.Format,
		PipelineSource: r.pipeline.Source,
		Plugins:        plugins,
		StopGrace:      r.o.StopGrace,
		Context:        r.rc,
		Pipeline:       r.pipeline.Filename,
		WasRunning:     r.wasRunning,
		PrivateIno:     r.origIno,
		PrivateDev:     r.origDev,
		ReinstallPID:   pid(),
		Vars:           r.pipeline.RecordedVariables(),
		PluginDir:      PluginDirOf(r.pipeline),
	}
	hdr.SetOSTemplate = r.o.OSTemplate
	hdr.Runtime = r.o.RuntimeName
	if r.cgroup != nil {
		hdr.Cgroup = r.cgroup.dir
	}
	if err := j.Append(journal.Record{Type: journal.RecordRun, Header: hdr}); err != nil {
		return r.abandonJournal(err)
	}
	return nil
}

// abandonJournal removes the journal of a run that failed to begin: nothing
// was changed yet.
func (r *run) abandonJournal(cause error) error {
	r.journal.Close()
	if err := os.Remove(r.journal.Path()); err != nil {
		cause = fmt.Errorf("%w; remove journal: %v", cause, err)
	}
	r.journal = nil
	return &Error{Code: ExitRefused, Stage: StagePreflight, Err: cause}
}

// commitIndex is the index of the first backup-retention stage: once every
// stage before it has succeeded, the point of no return has passed.
func (r *run) commitIndex() int {
	for i, sr := range r.stages {
		if sr.stage.Kind == pipeline.KindBackupRetention {
			return i
		}
	}
	return len(r.stages)
}

// runStage evaluates when, decodes the body with everything known so far,
// and runs the stage in its plugin.
func (r *run) runStage(ctx context.Context, i int) (ran bool, err error) {
	sr := r.stages[i]
	s := sr.stage
	ectx := r.scope(false).Context()
	run, _, diags := pipeline.EvalWhen(s, ectx)
	if diags.HasErrors() {
		return false, diagError(pipeline.RedactDiags(r.secrets, diags))
	}
	if !run {
		r.emit(Event{Type: EventStageSkipped, Stage: s.Name, Kind: s.Kind, Plugin: s.Plugin, Index: i + 1, Count: len(r.stages), Message: "when is false"})
		return false, nil
	}
	dec, diags := pipeline.DecodeBody(s, sr.spec, ectx)
	if diags.HasErrors() {
		return false, diagError(pipeline.RedactDiags(r.secrets, diags))
	}
	if err := r.checkNewInit(i); err != nil {
		return false, err
	}
	r.secrets.Add(dec.Secrets...)
	r.secrets.Add(pipeline.ConfigStrings(dec.Config, sr.sensitive)...)
	sr.config = dec.Config
	sr.derived = dec.Derived
	sr.started = true
	sr.entries = nil
	if err := r.journal.Append(journal.Record{Type: journal.RecordStageBegin, Stage: s.Name, Kind: s.Kind, Plugin: s.Plugin, Config: pipeline.WithoutSensitive(dec.Config, pipeline.Union(sr.sensitive, sr.derived))}); err != nil {
		return true, err
	}
	r.emit(Event{Type: EventStageStarted, Stage: s.Name, Kind: s.Kind, Plugin: s.Plugin, Index: i + 1, Count: len(r.stages)})
	began := time.Now()
	res, err := r.callRun(ctx, sr)
	r.stageOutputEnded(s.Name)
	err = r.secrets.Error(err)
	if res != nil {
		// What a plugin returns is hidden like what it prints.
		res.Outputs = r.secrets.Map(res.Outputs)
	}
	if err != nil {
		r.emit(Event{Type: EventStageFailed, Stage: s.Name, Kind: s.Kind, Plugin: s.Plugin, Index: i + 1, Count: len(r.stages), Duration: time.Since(began), Error: err.Error()})
		return true, err
	}
	sr.outputs = maps.Clone(res.Outputs)
	if sr.outputs == nil {
		sr.outputs = map[string]string{}
	}
	sr.reprovision = res.Reprovision
	r.rc.StageOutputs[s.Name] = res.Outputs
	if err := r.journal.Append(journal.Record{Type: journal.RecordStageDone, Stage: s.Name, Kind: s.Kind, Data: res.Outputs}); err != nil {
		return true, err
	}
	r.emit(Event{Type: EventStageFinished, Stage: s.Name, Kind: s.Kind, Plugin: s.Plugin, Index: i + 1, Count: len(r.stages), Duration: time.Since(began)})
	return true, nil
}

// callRun runs one stage in its plugin with the stage's timeout.
func (r *run) callRun(ctx context.Context, sr *stageRun) (*sdk.Result, error) {
	s := sr.stage
	p, err := r.plugin(ctx, s.Plugin)
	if err != nil {
		return nil, err
	}
	if t := sr.timeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	defer r.enter(sr)()
	rc := r.stageContext(s)
	res, err := p.Run(ctx, s.Kind, pipeline.WithoutSensitive(sr.config, sr.sensitive), rc, r.pluginEvents(s))
	if err != nil {
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			return nil, withReason(ReasonTimeout, fmt.Errorf("timed out after %s (raise the stage's timeout)", sr.timeout()))
		case ctx.Err() == context.Canceled:
			return nil, withReason(ReasonInterrupted, errors.New("interrupted (SIGINT or SIGTERM)"))
		}
		return nil, placeFailure(s, err)
	}
	return res, nil
}

// stageContext is the run context as one stage sees it.
func (r *run) stageContext(s *pipeline.Stage) sdk.RunContext {
	rc := r.rc
	rc.StageName = s.Name
	rc.StageKind = s.Kind
	rc.StageOutputs = maps.Clone(r.rc.StageOutputs)
	rc.Options.Extra = maps.Clone(r.rc.Options.Extra)
	return rc
}

// scope builds the expression scope. While validating, every stage's
// outputs are unknown; during the run, those of stages that have not run
// (or were skipped, or failed and were continued past) are null.
func (r *run) scope(validating bool) *pipeline.EvalScope {
	e := &pipeline.EvalScope{RunContext: r.rc, Pipeline: r.pipeline, Secrets: r.secrets, Outputs: map[string]map[string]string{}, Pending: map[string]bool{}, Declared: map[string][]sdk.Output{}}
	e.BadOutput = func(stage, name, value string) {
		r.o.Logger.Warn("a stage returned an output that is not of its declared type; it reads as null", "stage", stage, "output", name, "value", value)
	}
	ran := map[string]map[string]string{}
	for _, sr := range r.stages {
		if sr.declared != nil {
			e.Declared[sr.stage.Name] = sr.declared
		}
		if sr.outputs != nil {
			ran[sr.stage.Name] = maps.Clone(sr.outputs)
		}
	}
	for _, s := range r.pipeline.Stages {
		switch out, ok := ran[s.Name]; {
		case validating:
			e.Pending[s.Name] = true
		case ok:
			e.Outputs[s.Name] = out
		}
	}
	return e
}

// DefaultStageTimeout bounds a stage without a timeout attribute whose
// plugin states no default for its kind, the scripts included: a script
// or plugin that hangs ends in a rollback instead of holding the container
// stopped and its lock for ever.
const DefaultStageTimeout = 2 * time.Hour

func diagError(diags hcl.Diagnostics) error {
	return fmt.Errorf("%s", pipeline.FirstError(diags))
}
