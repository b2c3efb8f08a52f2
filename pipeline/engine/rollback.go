package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
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
		rbErr = r.journal.Append(journal.Record{Type: journal.RecordRolledBack})
	}
	if rbErr == nil {
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
		rbErr = fmt.Errorf("%w; the journal %s is kept: run %s", rbErr, r.host.JournalPath(r.ctid), wayOut(rbErr, r.host, r.ctid))
	}
	return stageError(stage, cause, rbErr)
}

// rollback undoes the started stages in [from, to) in reverse order, each in
// its plugin (started afresh if it died) with the entries it journaled. A
// stage whose Rollback fails does not stop the others: once they are done,
// if the new private area is gone and the old one is back at VE_PRIVATE,
// the failed stages' work went with the new area. Only a failed swap (the
// exchange back) stops the rollback at once: the stages before it would act
// on the wrong area. Stages the operator named with --skip-rollback are
// journaled as skipped and left as they are.
func (r *run) rollback(from, to int) error {
	var failed []*stageRun
	stuck := &StuckRollbackError{CTID: r.ctid, recover: recoverCommand(r.host, r.ctid)}
	for i := to - 1; i >= from; i-- {
		sr := r.stages[i]
		if !sr.started {
			continue
		}
		if slices.Contains(r.o.SkipRollback, sr.stage.Name) {
			r.o.Logger.Warn("rollback skipped as --skip-rollback says: what the stage did stays in place", "stage", sr.stage.Name)
			if err := r.journal.Append(journal.Record{Type: journal.RecordRollback, Stage: sr.stage.Name, Kind: sr.stage.Kind, Phase: journal.RollbackSkipped}); err != nil {
				return err
			}
			r.rolledBack(sr)
			continue
		}
		err := r.rollbackStage(sr)
		if err == nil {
			r.rolledBack(sr)
			continue
		}
		if r.journal.Broken() != nil {
			return fmt.Errorf("roll back stage %s: %w", sr.stage.Name, err)
		}
		stuck.add(sr.stage, err)
		if sr.stage.Kind == pipeline.KindSwap {
			return stuck
		}
		r.o.Logger.Warn("stage rollback failed; rolling back the others", "stage", sr.stage.Name, "error", err)
		if err := r.journal.Append(journal.Record{Type: journal.RecordRollback, Stage: sr.stage.Name, Kind: sr.stage.Kind, Phase: journal.RollbackFailed, Data: map[string]string{"error": err.Error()}}); err != nil {
			return err
		}
		failed = append(failed, sr)
	}
	if len(failed) == 0 {
		return nil
	}
	if !r.newAreaDiscarded() {
		return stuck
	}
	for _, sr := range failed {
		r.o.Logger.Warn("the stage's rollback failed, but its work was in the new private area, which is discarded", "stage", sr.stage.Name)
		if err := r.journal.Append(journal.Record{Type: journal.RecordRollback, Stage: sr.stage.Name, Kind: sr.stage.Kind, Phase: journal.RollbackDiscarded}); err != nil {
			return err
		}
		r.rolledBack(sr)
	}
	return nil
}

// rolledBack forgets a stage's run once it is undone.
func (r *run) rolledBack(sr *stageRun) {
	sr.started = false
	sr.outputs, sr.reprovision = nil, false
	sr.entries = nil
	delete(r.rc.StageOutputs, sr.stage.Name)
}

// newAreaDiscarded reports whether the rollback left the old private area
// at VE_PRIVATE (by its inode) and nothing of the new one: no temporary,
// parked or trash area.
func (r *run) newAreaDiscarded() bool {
	var st unix.Stat_t
	if err := unix.Lstat(r.rc.Private, &st); err != nil || st.Ino != r.origIno || st.Dev != r.origDev {
		return false
	}
	for _, p := range []string{r.rc.PrivateTmp, r.rc.PrivatePrevious, r.rc.Trash} {
		if !errors.Is(unix.Lstat(p, &st), unix.ENOENT) {
			return false
		}
	}
	return true
}

// StuckRollbackError is a rollback that could not finish: the stages whose
// Rollback failed, in the order tried.
type StuckRollbackError struct {
	CTID   int
	Stages []string
	Swap   bool // the swap's exchange back failed
	errs   []error
	// recover is the command line that recovers the container
	// ("reinstall recover 101", or with --runtime lxc and its name).
	recover string
}

func (e *StuckRollbackError) add(s *pipeline.Stage, err error) {
	e.Stages = append(e.Stages, s.Name)
	e.errs = append(e.errs, fmt.Errorf("roll back stage %s: %w", s.Name, err))
	e.Swap = e.Swap || s.Kind == pipeline.KindSwap
}

func (e *StuckRollbackError) Error() string { return errors.Join(e.errs...).Error() }

func (e *StuckRollbackError) Unwrap() []error { return e.errs }

// WayOut is the command that gets the operator out. A failed exchange back
// needs its cause fixed (recover finds the old area by its inode wherever it
// is); any other stage may also be skipped, leaving what it did in place.
func (e *StuckRollbackError) WayOut() string {
	command := e.recover
	if command == "" {
		command = fmt.Sprintf("reinstall recover %d", e.CTID)
	}
	if e.Swap {
		return fmt.Sprintf("`%s` once what made the exchange back fail is fixed", command)
	}
	skip := ""
	for _, name := range e.Stages {
		skip += " --skip-rollback " + name
	}
	head, target, _ := strings.Cut(command, "recover ")
	return fmt.Sprintf("`%s` once the cause is fixed, or `%srecover%s %s` to leave what %s did in place",
		command, head, skip, target, strings.Join(e.Stages, ", "))
}

// wayOut is the command to run after a run or recovery that could not finish.
func wayOut(err error, h *vz.Host, ctid int) string {
	var stuck *StuckRollbackError
	if errors.As(err, &stuck) {
		return stuck.WayOut()
	}
	return "`" + recoverCommand(h, ctid) + "`"
}

func (r *run) rollbackStage(sr *stageRun) error {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	s := sr.stage
	if err := r.journal.Append(journal.Record{Type: journal.RecordRollback, Stage: s.Name, Kind: s.Kind, Phase: journal.RollbackBegin}); err != nil {
		return err
	}
	p, err := r.plugin(ctx, s.Plugin)
	if err != nil {
		return err
	}
	defer r.enter(sr)()
	err = p.Rollback(ctx, s.Kind, pipeline.WithoutSensitive(sr.config, sr.sensitive), r.stageContext(s), sr.entries, r.pluginEvents(s))
	r.stageOutputEnded(s.Name)
	if err != nil {
		return err
	}
	return r.journal.Append(journal.Record{Type: journal.RecordRollback, Stage: s.Name, Kind: s.Kind, Phase: journal.RollbackDone})
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
	if r.releaseRuntimeLock != nil {
		r.releaseRuntimeLock()
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
