package pipeline

import (
	"context"

	"fmt"
	"os"
	"time"

	"github.com/reinstall-dev/reinstall/internal/runtime"
)

// rollbackTimeout bounds each stage's rollback; it runs on a fresh context
// so that Ctrl-C, which cancelled the run, does not cancel the undo.
const rollbackTimeout = 10 * time.Minute

// fail rolls back every started stage (contract §4) and returns the run's error.
func (r *run) fail(stage string, cause error) error {
	r.emit(Event{Type: EventRollbackStarted, Stage: stage, Error: cause.Error()})
	rbErr := r.rollback(0, len(r.stages))
	if rbErr == nil {
		rbErr = r.restoreRunState()
	}
	if rbErr == nil {
		r.journal.Append(Record{Type: RecordRolledBack})
		if err := r.journal.Finish(); err != nil {
			rbErr = err
		} else {
			r.journal = nil
		}
	}
	r.emit(Event{Type: EventRollbackFinished, Stage: stage, Error: errString(rbErr)})
	if rbErr != nil && r.journal != nil {
		r.journal.Close()
		r.journal = nil
		rbErr = fmt.Errorf("%w; the journal %s is kept: run `reinstall recover %d`", rbErr, r.host.JournalPath(r.ctid), r.ctid)
	}
	return stageError(stage, cause, rbErr)
}

// rollback undoes the started stages in [from, to) in reverse order, each in
// its plugin (started afresh if it died) with the entries it journaled.
func (r *run) rollback(from, to int) error {
	for i := to - 1; i >= from; i-- {
		sr := r.stages[i]
		if !sr.started {
			continue
		}
		if err := r.rollbackStage(sr); err != nil {
			return fmt.Errorf("roll back stage %s: %w", sr.stage.Name, err)
		}
		sr.started = false
		sr.outputs = nil
		sr.entries = nil
		delete(r.rc.StageOutputs, sr.stage.Name)
	}
	return nil
}

func (r *run) rollbackStage(sr *stageRun) error {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	s := sr.stage
	if err := r.journal.Append(Record{Type: RecordRollback, Stage: s.Name, Kind: s.Kind, Phase: "begin"}); err != nil {
		return err
	}
	p, err := r.plugin(ctx, s.Plugin)
	if err != nil {
		return err
	}
	r.current = sr
	defer func() { r.current = nil }()
	if err := p.Rollback(ctx, s.Kind, withoutSensitive(sr.config, sr.sensitive), r.stageContext(s), sr.entries, r.pluginEvents(s)); err != nil {
		return err
	}
	return r.journal.Append(Record{Type: RecordRollback, Stage: s.Name, Kind: s.Kind, Phase: "done"})
}

// reprovision handles a hook's exit 128: the temporary area is discarded by
// rolling back the stages before the hook, which then run again.
func (r *run) reprovision(ctx context.Context, hook int) error {
	if err := r.rollback(0, hook); err != nil {
		return err
	}
	for i := 0; i < hook; i++ {
		if _, err := r.runStage(ctx, i); err != nil {
			return fmt.Errorf("provision again after %s asked for the default: stage %s: %w", r.stages[hook].stage.Name, r.stages[i].stage.Name, err)
		}
	}
	return nil
}

// restoreRunState leaves the container as it was before the command: running
// if it ran (from its old private area), else stopped.
func (r *run) restoreRunState() error {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	state, err := r.o.Runtime.Status(ctx, r.ctid)
	if err != nil {
		return err
	}
	switch {
	case r.wasRunning && state != runtime.Running:
		return r.o.Runtime.Start(ctx, r.runtimeSpec())
	case !r.wasRunning && state == runtime.Running:
		ctx = runtime.WithStopNote(ctx, func(level, msg string) {
			if level == "warn" {
				r.o.Logger.Warn(msg)
			} else {
				r.o.Logger.Info(msg)
			}
		})
		return r.o.Runtime.Stop(ctx, r.ctid, r.o.StopGrace)
	}
	return nil
}

// close ends every plugin process and the run's cgroup, and releases the lock.
func (r *run) close() {
	for _, p := range r.plugins {
		p.Close()
	}
	if err := r.cgroup.kill(); err != nil {
		r.o.Logger.Warn("run cgroup", "error", err)
	}
	if r.journal != nil {
		r.journal.Close()
	}
	if r.lock != nil {
		r.lock.Release()
	}
}

func (r *run) state(ctx context.Context) string {
	st, err := r.o.Runtime.Status(ctx, r.ctid)
	if err != nil {
		return "unknown"
	}
	return string(st)
}

func (r *run) runtimeSpec() runtime.Spec {
	return runtime.Spec{CTID: r.ctid, Private: r.ct.Private, Root: r.ct.Root, Hostname: r.ct.Hostname, Init: r.ct.Init}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func pid() int { return os.Getpid() }
