package journal

import (
	"encoding/json"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// State is where a stage stands in a journal.
type State int

const (
	// Begun: the stage started and did not finish (it may have changed
	// disk: its steps say how far it got).
	Begun State = iota + 1
	// Done: the stage finished; its outputs are recorded.
	Done
	// RolledBack: its rollback finished; nothing of it is left.
	RolledBack
	// Unrolled: its rollback returned an error; a recovery tries it
	// again.
	Unrolled
	// Discarded: its rollback failed, but its work lived in the new private
	// area, which was discarded with it.
	Discarded
	// Skipped: the operator skipped its rollback (recover --skip-rollback).
	Skipped
)

// String is the state as `reinstall status` prints it.
func (s State) String() string {
	switch s {
	case Begun:
		return "begun"
	case Done:
		return "done"
	case RolledBack:
		return "rolled back"
	case Unrolled:
		return "rollback failed"
	case Discarded:
		return "rollback failed; discarded with the new private area"
	case Skipped:
		return "rollback skipped (--skip-rollback)"
	}
	return "unknown"
}

// Settled tells whether nothing of the stage is left to roll back.
func (s State) Settled() bool { return s == RolledBack || s == Discarded || s == Skipped }

// Stage is one stage as its records tell it, since its last begin.
type Stage struct {
	Name   string
	Kind   string
	Plugin string
	State  State
	// Config is the decoded configuration the stage ran with (sensitive
	// values left out).
	Config json.RawMessage
	// Steps are the sub-steps its plugin journaled, in order; a rollback
	// receives them.
	Steps []sdk.JournalEntry
	// Outputs are its recorded outputs once done (an empty map for none),
	// nil before.
	Outputs map[string]string
	// RollbackError is the error of its last failed rollback.
	RollbackError string
}

// Run is a run as its journal tells it.
type Run struct {
	// Header is the run record's header; nil when the journal has none.
	Header *Header
	// Stages are the stages that began, in the order they first began.
	Stages []*Stage
	// Committed tells whether the point of no return had passed.
	Committed bool
	// RolledBack tells whether every started stage was rolled back.
	RolledBack bool
	// Finished tells whether the run ended (the journal was about to go).
	Finished bool
}

// Stage returns the named stage, nil if it never began.
func (r *Run) Stage(name string) *Stage {
	for _, s := range r.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Replay reads records in order into the run they describe. A stage that
// begins again (a recovery finishing it) starts over; a finished rollback
// leaves its stage with no steps to undo.
func Replay(records []Record) *Run {
	run := &Run{}
	for _, rec := range records {
		switch rec.Type {
		case RecordRun:
			if run.Header == nil {
				run.Header = rec.Header
			}
		case RecordCommit:
			run.Committed = true
		case RecordRolledBack:
			run.RolledBack = true
		case RecordFinished:
			run.Finished = true
		case RecordStageBegin:
			s := run.Stage(rec.Stage)
			if s == nil {
				s = &Stage{Name: rec.Stage}
				run.Stages = append(run.Stages, s)
			}
			*s = Stage{Name: rec.Stage, Kind: rec.Kind, Plugin: rec.Plugin, State: Begun, Config: rec.Config}
		case RecordStep:
			if s := run.Stage(rec.Stage); s != nil {
				s.Steps = append(s.Steps, StepEntry(rec))
			}
		case RecordStageDone:
			if s := run.Stage(rec.Stage); s != nil {
				s.State, s.Outputs = Done, rec.Data
				if s.Outputs == nil {
					s.Outputs = map[string]string{}
				}
			}
		case RecordRollback:
			if s := run.Stage(rec.Stage); s != nil {
				replayRollback(s, rec)
			}
		}
	}
	return run
}

// replayRollback applies one rollback record to its stage.
func replayRollback(s *Stage, rec Record) {
	switch rec.Phase {
	case RollbackDone:
		s.State = RolledBack
	case RollbackDiscarded:
		s.State = Discarded
	case RollbackSkipped:
		s.State = Skipped
	case RollbackFailed:
		s.State, s.RollbackError = Unrolled, rec.Data["error"]
		return
	default:
		return
	}
	s.Steps = nil
}
