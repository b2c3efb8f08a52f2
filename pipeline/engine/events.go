package engine

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Event types, stable names for --json consumers (docs/events.schema.json).
const (
	// EventSlotWaiting: the host's limit of runs at once is reached; the
	// run waits for a slot before preflight (the CLI sends it).
	EventSlotWaiting      = "slot-waiting"
	EventRunStarted       = "run-started"
	EventStageStarted     = "stage-started"
	EventStageSkipped     = "stage-skipped"
	EventStageLog         = "stage-log"
	EventStageProgress    = "stage-progress"
	EventStageFinished    = "stage-finished"
	EventStageFailed      = "stage-failed"
	EventRollbackStarted  = "rollback-started"
	EventRollbackFinished = "rollback-finished"
	// EventError ends a failed run, before its run-finished: the stage, the
	// exit code and the reason (Reason).
	EventError       = "error"
	EventRunFinished = "run-finished"
)

// Event is one thing that happened during a run.
type Event struct {
	Time  time.Time `json:"time"`
	Type  string    `json:"type"`
	RunID string    `json:"run_id,omitempty"`
	CTID  int       `json:"ctid,omitempty"`
	// CT names an LXC container (then CTID is absent).
	CT string `json:"ct,omitempty"`
	// Command is what runs: reinstall or recover (run-started).
	Command string `json:"command,omitempty"`
	// Pipeline is the pipeline's name (run-started).
	Pipeline string        `json:"pipeline,omitempty"`
	Stage    string        `json:"stage,omitempty"`
	Kind     string        `json:"kind,omitempty"`
	Plugin   string        `json:"plugin,omitempty"`
	Index    int           `json:"index,omitempty"`
	Count    int           `json:"count,omitempty"`
	Level    string        `json:"level,omitempty"`
	Message  string        `json:"message,omitempty"`
	Done     int64         `json:"done,omitempty"`
	Total    int64         `json:"total,omitempty"`
	Unit     string        `json:"unit,omitempty"`
	Files    int64         `json:"files,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Error    string        `json:"error,omitempty"`
	// State is the container's state at the end of a run: running or stopped.
	State string `json:"state,omitempty"`
	// ContinuedPast names the stages that failed and were continued past, as
	// their on_failure = "continue" says (run-finished).
	ContinuedPast []string `json:"continued_past,omitempty"`
	// ExitCode is the process's exit code (error and run-finished only,
	// where it is always present, 0 included).
	ExitCode int `json:"-"`
	// Reason is the failure's slug (Reason), LogFile the run's log file.
	Reason  string `json:"reason,omitempty"`
	LogFile string `json:"log_file,omitempty"`
}

// MarshalJSON writes exit_code for the events that end a run, 0 included.
// Text is written with every byte that is no UTF-8 shown as \xNN
// (sdk.EscapeInvalidUTF8): a JSON string holds UTF-8 only, and encoding/json
// would replace such a byte, losing it.
func (e Event) MarshalJSON() ([]byte, error) {
	type fields Event
	for _, f := range []*string{&e.CT, &e.Stage, &e.Message, &e.Error, &e.Unit, &e.LogFile, &e.Level, &e.State} {
		*f = sdk.EscapeInvalidUTF8(*f)
	}
	if e.ContinuedPast != nil {
		names := make([]string, len(e.ContinuedPast))
		for i, n := range e.ContinuedPast {
			names[i] = sdk.EscapeInvalidUTF8(n)
		}
		e.ContinuedPast = names
	}
	if e.Type != EventError && e.Type != EventRunFinished {
		return json.Marshal(fields(e))
	}
	return json.Marshal(struct {
		fields
		ExitCode int `json:"exit_code"`
	}{fields(e), e.ExitCode})
}

// Sink receives events; it must not block for long.
type Sink func(Event)

func now() time.Time { return time.Now() }

// endFailed ends the events of a run that failed after preflight: the
// error, then run-finished with the container's state. It returns err.
func (r *run) endFailed(err error, began time.Time) error {
	if err == nil {
		return nil
	}
	code, stage, msg := ExitCode(err), "", err.Error()
	var e *Error
	if errors.As(err, &e) {
		stage, msg = e.Stage, e.Err.Error()
	}
	r.emit(Event{Type: EventError, Stage: stage, ExitCode: code, Reason: Reason(err), Message: msg})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.emit(Event{Type: EventRunFinished, Duration: time.Since(began), State: r.state(ctx), ExitCode: code})
	return err
}
