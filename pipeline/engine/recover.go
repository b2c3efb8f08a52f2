package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// Recovery outcomes.
const (
	RecoveredNothing    = "nothing to recover"
	RecoveredRollback   = "rolled back: the old container is as it was"
	RecoveredForward    = "finished: the reinstalled container is running"
	RecoveredNoProgress = "the interrupted run had not changed anything"
)

// Recover finishes an interrupted run from its journal (contract §5): it
// ends every process the run left, then rolls back before the point of no
// return, or finishes backup-retention after it. It can itself be
// interrupted and run again.
func Recover(ctx context.Context, o Options) (string, error) {
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	ctid, _, err := o.Host.Resolve(o.Target)
	if err != nil {
		return "", refused("%v", err)
	}
	if err := o.Host.CheckKnown(ctid); err != nil {
		return "", &Error{Code: ExitRefused, Stage: stageRecover, Err: err} // before the lock: no trace
	}
	lock, err := o.Host.Lock(ctid, "recovering")
	if err != nil {
		var le *vz.LockedError
		if errors.As(err, &le) {
			return "", &Error{Code: ExitLocked, Stage: "recover", Err: le}
		}
		if errors.Is(err, vz.ErrNotRegular) {
			return "", &Error{Code: ExitRefused, Stage: "recover", Reason: ReasonRefused, Err: err}
		}
		return "", &Error{Code: ExitRecover, Stage: "recover", Err: err}
	}
	r := &run{o: o, host: o.Host, lock: lock, ctid: ctid, plugins: map[string]*pluginhost.Plugin{}, secrets: secretsOf(o)}
	defer r.close()
	path := o.Host.JournalPath(ctid)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return RecoveredNothing, nil
	}
	j, records, err := journal.Open(path)
	if errors.Is(err, vz.ErrNotRegular) {
		return "", &Error{Code: ExitRefused, Stage: "recover", Reason: ReasonRefused, Err: err}
	}
	if err != nil {
		return "", recoverError(err)
	}
	r.journal = j
	j.OnAppend(r.faultAfterRecord)
	replayed := journal.Replay(records)
	if len(records) == 0 || records[0].Header == nil {
		// The run died while creating its journal: nothing else happened.
		return RecoveredNoProgress, r.finishJournal()
	}
	hdr := replayed.Header
	if err := r.useRecordedRuntime(hdr); err != nil {
		return "", recoverError(fmt.Errorf("container runtime: %w", err))
	}
	if err := r.lockRuntime(ctx); err != nil {
		return "", recoverError(err)
	}
	if err := killCgroup(hdr.Cgroup); err != nil {
		return "", recoverError(fmt.Errorf("end the interrupted run's processes: %w", err))
	}
	if err := r.restore(ctx, replayed); err != nil {
		return "", recoverError(err)
	}
	if err := r.checkSkipRollback(); err != nil {
		return "", err
	}
	if replayed.Committed {
		if err := r.rollForward(ctx); err != nil {
			return "", recoverError(err)
		}
		return RecoveredForward, r.finishJournal()
	}
	if err := r.rollback(0, len(r.stages)); err != nil {
		return "", recoverError(fmt.Errorf("%w; run %s", err, wayOut(err, r.host, r.ctid)))
	}
	if err := r.restoreRunState(); err != nil {
		return "", recoverError(err)
	}
	if err := r.journal.Append(journal.Record{Type: journal.RecordRolledBack}); err != nil {
		return "", recoverError(err)
	}
	return RecoveredRollback, r.finishJournal()
}

// restore rebuilds the run's state from its replayed journal.
func (r *run) restore(ctx context.Context, replayed *journal.Run) error {
	hdr := replayed.Header
	ct, err := r.host.LoadContainer(r.ctid)
	if err != nil {
		return err
	}
	r.ct = ct
	r.rc = hdr.Context
	r.runID = hdr.Context.RunID
	r.wasRunning = hdr.WasRunning
	r.origIno, r.origDev = hdr.PrivateIno, hdr.PrivateDev
	r.o.OSTemplate = hdr.SetOSTemplate
	if hdr.StopGrace > 0 {
		r.o.StopGrace = hdr.StopGrace
	}
	if r.pipeline, err = loadRecordedPipeline(Options{Host: r.host}, hdr); err != nil {
		return fmt.Errorf("the interrupted run's pipeline %s: %w", hdr.Pipeline, err)
	}
	if err := r.preparePlugins(ctx); err != nil {
		return err
	}
	for _, sr := range r.stages {
		st := replayed.Stage(sr.stage.Name)
		if st == nil {
			continue
		}
		if st.Outputs != nil {
			r.rc.StageOutputs[st.Name] = st.Outputs
		}
		if st.State.Settled() {
			continue
		}
		sr.started, sr.config, sr.entries, sr.outputs = true, st.Config, st.Steps, st.Outputs
	}
	return nil
}

// rollForward writes --ostemplate to the config, runs the backup-retention
// stages that had not finished, and leaves the container running.
func (r *run) rollForward(ctx context.Context) error {
	if err := r.writeOSTemplate(); err != nil {
		return err
	}
	for i := r.commitIndex(); i < len(r.stages); i++ {
		sr := r.stages[i]
		if sr.outputs != nil {
			continue
		}
		if _, err := r.runStage(ctx, i); err != nil {
			return fmt.Errorf("stage %s: %w", sr.stage.Name, err)
		}
	}
	st, err := r.o.Runtime.Status(ctx, r.ctid)
	if err != nil {
		return err
	}
	if st != runtime.Running {
		return r.o.Runtime.Start(ctx, r.runtimeSpec())
	}
	return nil
}

// checkSkipRollback refuses a --skip-rollback that names no stage of the
// interrupted run's pipeline.
func (r *run) checkSkipRollback() error {
	var names []string
	for _, sr := range r.stages {
		names = append(names, sr.stage.Name)
	}
	for _, name := range r.o.SkipRollback {
		if !slices.Contains(names, name) {
			return &Error{Code: ExitRefused, Stage: "recover", Err: fmt.Errorf(
				"--skip-rollback %s: the interrupted run's pipeline has no such stage (stages: %s)", name, strings.Join(names, ", "))}
		}
	}
	return nil
}

func (r *run) finishJournal() error {
	err := r.journal.Finish()
	r.journal = nil
	return err
}

func pipelineFileOf(hdr *journal.Header) string {
	if hdr.Pipeline == pipeline.DefaultFilename {
		return ""
	}
	return hdr.Pipeline
}

func recoverError(err error) error {
	return &Error{Code: ExitRecover, Stage: "recover", Err: err}
}
