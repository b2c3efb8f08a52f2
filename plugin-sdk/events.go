package sdk

import "github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"

// Event is a log line or progress report of a running stage, as the host
// receives it (over the Run stream or HostServices.Emit).
type Event struct {
	Stage    string
	Log      *LogLine
	Progress *Progress
}

// LogLine is a stage's message to the operator.
type LogLine struct {
	Level   Level
	Message string
}

// Progress reports how far a stage is.
type Progress struct {
	Message string
	Done    int64
	Total   int64
	Unit    string // bytes, files, or empty
	// Files counts the entries handled so far, next to a byte count.
	Files int64
}

// Level is the level of a stage's message to the operator (UI.Log).
type Level string

// The levels, lowest first.
const (
	LevelTrace Level = "trace"
	LevelDebug Level = "debug"
	LevelInfo  Level = "info"
	LevelWarn  Level = "warn"
	LevelError Level = "error"
)

func logEvent(level Level, msg string) *stagev1.Event {
	return &stagev1.Event{Event: &stagev1.Event_Log{Log: &stagev1.Log{Level: string(level), Message: wire(msg)}}}
}

func progressEvent(p Progress) *stagev1.Event {
	return &stagev1.Event{Event: &stagev1.Event_Progress{Progress: &stagev1.Progress{
		Message: wire(p.Message), Done: p.Done, Total: p.Total, Unit: p.Unit, Files: p.Files,
	}}}
}

// eventFromProto converts a log or progress event; ok is false for anything else.
func eventFromProto(stage string, ev *stagev1.Event) (Event, bool) {
	switch e := ev.GetEvent().(type) {
	case *stagev1.Event_Log:
		return Event{Stage: stage, Log: &LogLine{Level: Level(e.Log.GetLevel()), Message: string(e.Log.GetMessage())}}, true
	case *stagev1.Event_Progress:
		p := e.Progress
		return Event{Stage: stage, Progress: &Progress{
			Message: string(p.GetMessage()), Done: p.GetDone(), Total: p.GetTotal(), Unit: p.GetUnit(), Files: p.GetFiles(),
		}}, true
	}
	return Event{}, false
}
