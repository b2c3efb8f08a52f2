package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// jsonEvent is one line of --json, with the fields the tests look at.
type jsonEvent struct {
	Type     string `json:"type"`
	RunID    string `json:"run_id"`
	CTID     int    `json:"ctid"`
	Command  string `json:"command"`
	Stage    string `json:"stage"`
	Kind     string `json:"kind"`
	Level    string `json:"level"`
	Message  string `json:"message"`
	Error    string `json:"error"`
	Duration int64  `json:"duration_ns"`
	ExitCode *int   `json:"exit_code"`
	Reason   string `json:"reason"`
	State    string `json:"state"`
	LogFile  string `json:"log_file"`
	Files    int64  `json:"files"`
	Done     int64  `json:"done"`
	Total    int64  `json:"total"`

	ContinuedPast []string `json:"continued_past"`
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// eventsSchema compiles docs/events.schema.json, asserting formats too.
func eventsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		schema, schemaErr = c.Compile(filepath.Join("..", "..", "docs", "events.schema.json"))
	})
	if schemaErr != nil {
		t.Fatalf("docs/events.schema.json: %v", schemaErr)
	}
	return schema
}

// parseEvents checks that stdout is nothing but JSON events, each valid
// against the documented schema, and decodes them.
func parseEvents(t *testing.T, stdout string) []jsonEvent {
	t.Helper()
	sch := eventsSchema(t)
	var events []jsonEvent
	for i, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" {
			t.Fatalf("line %d of the JSON stream is empty:\n%s", i+1, stdout)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("line %d does not follow docs/events.schema.json: %v\n%s", i+1, err, line)
		}
		var ev jsonEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	return events
}

// lastOf returns the last event of a type, failing the test if there is none.
func lastOf(t *testing.T, events []jsonEvent, typ string) jsonEvent {
	t.Helper()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == typ {
			return events[i]
		}
	}
	t.Fatalf("no %s event in %+v", typ, events)
	return jsonEvent{}
}

// checkStages checks that every started stage has exactly one finish (or
// failure) after it, that skipped stages never start, and that the stages'
// durations add up to no more than the run's.
func checkStages(t *testing.T, events []jsonEvent) (finished, failed []string) {
	t.Helper()
	open := map[string]bool{}
	var sum int64
	for _, ev := range events {
		switch ev.Type {
		case engine.EventStageStarted:
			if open[ev.Stage] {
				t.Errorf("stage %s started twice without finishing", ev.Stage)
			}
			open[ev.Stage] = true
		case engine.EventStageFinished, engine.EventStageFailed:
			if !open[ev.Stage] {
				t.Errorf("stage %s ended without a start", ev.Stage)
			}
			delete(open, ev.Stage)
			sum += ev.Duration
			if ev.Type == engine.EventStageFinished {
				finished = append(finished, ev.Stage)
			} else {
				failed = append(failed, ev.Stage)
			}
		}
	}
	for s := range open {
		t.Errorf("stage %s started and never finished", s)
	}
	end := lastOf(t, events, engine.EventRunFinished)
	if sum > end.Duration {
		t.Errorf("the stages took %s together, more than the run's %s", time.Duration(sum), time.Duration(end.Duration))
	}
	return finished, failed
}

// The --json stream of a real reinstall: every line follows the schema,
// every stage that starts finishes, the scripts' lines are stage-log events
// and the stream ends with run-finished (exit 0, running).
func TestJSONEventsOfAReinstall(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\necho hook says hello\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "echo configure says hello\n", 0o644)
	r := h.mustCLI("--json", "101")
	if r.stderr != "" {
		t.Errorf("--json printed on stderr:\n%s", r.stderr)
	}
	events := parseEvents(t, r.stdout)
	if first := events[0]; first.Type != engine.EventRunStarted || first.Command != "reinstall" || first.CTID != 101 {
		t.Errorf("first event %+v, want run-started of reinstall 101", first)
	}
	last := events[len(events)-1]
	if last.Type != engine.EventRunFinished || last.ExitCode == nil || *last.ExitCode != 0 || last.State != "running" {
		t.Errorf("last event %+v, want run-finished, exit 0, running", last)
	}
	if last.LogFile == "" || !exists(last.LogFile) {
		t.Errorf("run-finished names log file %q, which does not exist", last.LogFile)
	}
	finished, failed := checkStages(t, events)
	for _, want := range []string{"template", "vps-reinstall", "swap", "start", "vps-configure", "retention"} {
		if !contains(finished, want) {
			t.Errorf("stage %s did not finish; finished: %v", want, finished)
		}
	}
	if len(failed) > 0 {
		t.Errorf("failed stages %v in a successful run", failed)
	}
	// Provision reports the archive read against its size, with the files.
	archives, _ := filepath.Glob(h.Path("vz/template/cache/" + testenv.DefaultTemplate + ".tar*"))
	if len(archives) != 1 {
		t.Fatalf("template archives %v, want one", archives)
	}
	st, err := os.Stat(archives[0])
	if err != nil {
		t.Fatal(err)
	}
	if p := lastOf(t, events, engine.EventStageProgress); p.Stage != "template" || p.Total != st.Size() || p.Done != p.Total || p.Files == 0 {
		t.Errorf("provision's last progress %+v, want done = total = %d (%s) and the files written", p, st.Size(), archives[0])
	}
	var logs []string
	for _, ev := range events {
		if ev.Type == engine.EventStageLog {
			logs = append(logs, ev.Stage+": "+ev.Message)
		}
		if ev.Type == engine.EventError {
			t.Errorf("error event in a successful run: %+v", ev)
		}
	}
	for _, want := range []string{"vps-reinstall: hook says hello", "vps-configure: configure says hello"} {
		if !contains(logs, want) {
			t.Errorf("no stage-log %q in %q", want, logs)
		}
	}
}

// A failing run's stream: the failed stage, the rollback, then the error
// event naming the stage, the exit code and the reason, and run-finished
// with the container back in its state.
func TestJSONEventsOfAFailedReinstall(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\necho giving up >&2\nexit 3\n", 0o755)
	r := h.cli("--json", "101")
	if r.code != engine.ExitFailed {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	events := parseEvents(t, r.stdout)
	_, failed := checkStages(t, events)
	if d := cmp.Diff([]string{"vps-reinstall"}, failed); d != "" {
		t.Errorf("failed stages (-want +got):\n%s", d)
	}
	var types []string
	for _, ev := range events[len(events)-4:] {
		types = append(types, ev.Type)
	}
	want := []string{engine.EventRollbackStarted, engine.EventRollbackFinished, engine.EventError, engine.EventRunFinished}
	if d := cmp.Diff(want, types); d != "" {
		t.Errorf("the stream's end (-want +got):\n%s", d)
	}
	e := lastOf(t, events, engine.EventError)
	if e.Stage != "vps-reinstall" || e.ExitCode == nil || *e.ExitCode != 1 || e.Reason != engine.ReasonStageFailed ||
		!strings.Contains(e.Message, "exited with status 3") {
		t.Errorf("error event %+v, want stage vps-reinstall, exit 1, stage-failed, the script's status", e)
	}
	if e.LogFile == "" || !strings.HasSuffix(r.lastLine(), " (log: "+e.LogFile+")") {
		t.Errorf("error event's log file %q is not the one the last line names: %q", e.LogFile, r.lastLine())
	}
	if end := lastOf(t, events, engine.EventRunFinished); end.State != "stopped" || *end.ExitCode != 1 {
		t.Errorf("run-finished %+v, want exit 1 and the container stopped as before", end)
	}
	h.assertClean()
}

// recover --json: run-started and run-finished of recover around what it
// did, and no other line on stdout.
func TestJSONEventsOfRecover(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	r := h.mustCLI("recover", "--json", "101")
	events := parseEvents(t, r.stdout)
	var got []string
	for _, ev := range events {
		got = append(got, ev.Type+" "+ev.Command+" "+ev.Message)
	}
	want := []string{"run-started recover ", "run-finished recover " + engine.RecoveredNothing}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("recover --json (-want +got):\n%s", d)
	}
	if end := events[len(events)-1]; end.State != "stopped" || end.CTID != 101 {
		t.Errorf("run-finished %+v, want container 101 stopped", end)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// logFiles lists the run log files of container ctid under the host's root.
func (h *testHost) logFiles(ctid string) []string {
	h.t.Helper()
	files, err := filepath.Glob(h.Path("var/log/reinstall/" + ctid + "-*.log"))
	if err != nil {
		h.t.Fatal(err)
	}
	return files
}
