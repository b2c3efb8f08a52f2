package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// runResult is what --output=result prints on stdout once a run ends: one
// JSON object (docs/result.schema.json). A command over several
// containers prints one object whose results hold one per container.
type runResult struct {
	Changed bool `json:"changed"`
	Failed  bool `json:"failed"`
	RC      int  `json:"rc"`
	// Reason is the failure's stable slug, Stage where it failed.
	Reason string `json:"reason,omitempty"`
	Stage  string `json:"stage,omitempty"`
	Msg    string `json:"msg"`
	// Target is the container as given (a CTID or a name), CTID its id.
	Target    string  `json:"target,omitempty"`
	CTID      int     `json:"ctid,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
	RunID     string  `json:"run_id,omitempty"`
	Log       string  `json:"log,omitempty"`
	DurationS float64 `json:"duration_s"`
	State     string  `json:"state,omitempty"`
	// Replayed: the request had finished before; nothing ran this time.
	Replayed bool `json:"replayed,omitempty"`
	// Results: one per container, for a command over several.
	Results []runResult `json:"results,omitempty"`
}

// changedBy tells whether a run that ended with code changed the
// container: reinstalled, or stopped past a point a rollback could undo.
// Every other failure left it as it was.
// An unfinished journal of an earlier run is refused before any change.
func changedBy(code int, reason string) bool {
	return code == engine.ExitOK || code == engine.ExitRecover && reason != engine.ReasonJournalUnfinished
}

// newRunResult describes a finished run of one container.
func newRunResult(err error, code int, line string, took time.Duration) runResult {
	res := runResult{RC: code, Failed: code != 0, DurationS: seconds(took)}
	if err != nil {
		ev := errorEvent(err, code)
		res.Reason, res.Stage = ev.Reason, ev.Stage
		res.Msg = strings.TrimPrefix(line, "reinstall: ")
		if res.Msg == "" {
			res.Msg = ev.Message
		}
	}
	res.Changed = changedBy(code, res.Reason)
	return res
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// successMsg is the message of a result that reinstalled its container.
func successMsg(res runResult) string {
	s := fmt.Sprintf("container %s reinstalled", res.Target)
	if res.State != "" {
		s += "; it is " + res.State
	}
	return s
}

// writeResult prints a result as one line of JSON.
func writeResult(w io.Writer, res runResult) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(res)
}

// resultFD is where a run started by a command over several containers
// writes its result (--result-fd), its stdout being the event stream.
func resultWriter(fd int) io.Writer {
	if fd <= 2 {
		return nil
	}
	return os.NewFile(uintptr(fd), "result")
}
