package pipeline

import "time"

// Event types, stable names for --json consumers.
const (
	EventRunStarted       = "run-started"
	EventStageStarted     = "stage-started"
	EventStageSkipped     = "stage-skipped"
	EventStageLog         = "stage-log"
	EventStageProgress    = "stage-progress"
	EventStageFinished    = "stage-finished"
	EventStageFailed      = "stage-failed"
	EventRollbackStarted  = "rollback-started"
	EventRollbackFinished = "rollback-finished"
	EventRunFinished      = "run-finished"
)

// Event is one thing that happened during a run.
type Event struct {
	Time     time.Time     `json:"time"`
	Type     string        `json:"type"`
	RunID    string        `json:"run_id,omitempty"`
	CTID     int           `json:"ctid,omitempty"`
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
}

// Sink receives events; it must not block for long.
type Sink func(Event)

func now() time.Time { return time.Now() }
