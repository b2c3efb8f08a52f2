package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/reinstall-dev/reinstall/internal/redact"
	"github.com/reinstall-dev/reinstall/internal/requests"
	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// runOutput is where the commands that run stages (reinstall, recover)
// report: their --json and --quiet flags, and the report of the run.
type runOutput struct {
	json, quiet bool
	format      string     // --output: "text" or "result"
	resultFD    int        // --result-fd: the result goes there instead of stdout
	report      *runReport // nil until a run starts
	target      string     // the container as given, for the result

	requestID string
	request   *requests.Request // held from the check for a record to the recording
	done      *runResult        // a result made without a run here: a replay, the sum of several runs
}

func (o *runOutput) register(f *pflag.FlagSet) {
	f.BoolVar(&o.json, "json", false, "print every event as one JSON object per line on stdout (see docs/events.schema.json)")
	f.BoolVar(&o.quiet, "quiet", false, "print no progress, only the error line of a failure")
	f.StringVar(&o.format, "output", "text", "what stdout gets at the end: text, or result (one JSON object, see docs/result.schema.json)")
	f.IntVar(&o.resultFD, "result-fd", 0, "write the result object to this file descriptor instead of stdout")
	f.MarkHidden("result-fd")
}

// wantsResult tells whether the run ends with a result object.
func (o *runOutput) wantsResult() bool { return o.format == "result" || o.resultFD > 2 }

// checkFormat refuses an --output it does not know.
func (o *runOutput) checkFormat() error {
	if o.format != "text" && o.format != "result" {
		return fmt.Errorf("--output %q: want text or result", o.format)
	}
	return nil
}

// runReport carries one run's events to the operator's view on stderr
// (live progress on a terminal, plain lines otherwise, none with --quiet or
// --json), to the JSON stream on stdout (--json) and to the run's log file,
// and ends them with the run's result.
type runReport struct {
	command string
	started time.Time
	view    eventView   // nil with --quiet or --json
	json    *jsonEvents // nil without --json
	// Logger is the host's log: to stderr at --log-level (above the
	// progress), and to the log file at debug level.
	Logger hclog.InterceptLogger
	// LogFile writes to the log file alone, at every level, once it is
	// open: the plugin lines the operator's level hides, and stacks.
	LogFile hclog.Logger

	mu       sync.Mutex
	log      *runLog // nil until the container is known, or without a file
	ctid     int
	lxcName  string // the LXC container's name, which events carry instead of ctid
	runID    string
	state    func() string // the container's state, for a result the run did not report
	finished bool          // a run-finished event was seen
	endState string        // the state run-finished reported
	secrets  *redact.Secrets
}

// eventView is the operator's view of a run on stderr. As an io.Writer it
// takes other output for stderr (the host's log) while it is shown.
type eventView interface {
	io.Writer
	event(engine.Event)
	close()
}

// start begins the report of a run of command (reinstall or recover).
func (o *runOutput) start(g *globals, command string) *runReport {
	r := &runReport{command: command, started: time.Now(), secrets: g.secrets}
	stderr := g.stderr
	switch {
	case o.json:
		r.json = newJSONEvents(g.stdout)
	case o.quiet:
		stderr = io.Discard
	case isTerminal(g.stderr):
		r.view = newProgressView(g.stderr)
	default:
		r.view = newTextView(g.stderr)
	}
	if r.view != nil {
		stderr = r.view
	}
	r.Logger = hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "reinstall", Level: hclog.LevelFromString(g.logLevel), Output: termsafe.Writer{W: stderr}})
	r.LogFile = newLogFileLogger(r)
	o.report = r
	return r
}

// openLog starts the run's log file once target names a container; without
// one (an invalid name, a directory that cannot be written) the run goes on.
// state, if not nil, tells the container's state for the result.
func (r *runReport) openLog(h *vz.Host, target string, state func(ctid int) (string, error)) int {
	ctid, _, err := h.Resolve(target)
	if err != nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctid = ctid
	r.lxcName, _ = h.LXCName(ctid)
	if state != nil {
		r.state = func() string {
			st, err := state(ctid)
			if err != nil {
				return ""
			}
			return st
		}
	}
	l, err := openRunLog(h, ctid, r.started, r.secrets)
	if err != nil {
		r.Logger.Warn("this run has no log file", "error", err)
		return ctid
	}
	r.log = l
	r.Logger.RegisterSink(l.sink())
	l.events.Info("run", "command", r.command, "ctid", ctid, "target", target, "root", h.Root)
	return ctid
}

// Event takes one event of the run.
func (r *runReport) Event(ev engine.Event) {
	ev.Time = ev.Time.UTC()
	r.mu.Lock()
	if ev.RunID != "" {
		r.runID = ev.RunID
	}
	switch ev.Type {
	case engine.EventRunStarted, engine.EventRunFinished:
		if ev.Command == "" {
			ev.Command = r.command
		}
		if ev.Type == engine.EventRunFinished {
			r.finished, r.endState = true, ev.State
		}
	}
	if r.log != nil && (ev.Type == engine.EventError || ev.Type == engine.EventRunFinished) {
		ev.LogFile = r.log.path
	}
	log := r.log
	r.mu.Unlock()
	if log != nil {
		log.event(ev)
	}
	if r.json != nil {
		r.json.event(ev)
	}
	if r.view != nil {
		r.view.event(ev)
	}
}

// emit sends an event of the command itself, as the pipeline's are.
func (r *runReport) emit(ev engine.Event) {
	r.mu.Lock()
	ev.CTID, ev.CT, ev.RunID = r.ctid, r.lxcName, r.runID
	if ev.CT != "" {
		ev.CTID = 0
	}
	r.mu.Unlock()
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if ev.Type == engine.EventRunFinished && ev.Duration == 0 {
		ev.Duration = time.Since(r.started)
	}
	r.Event(ev)
}

// finish ends the report with the command's result: the error event and
// run-finished the run did not send itself, the result in the log file,
// and the suffix naming the log file for the last line on stderr.
func (r *runReport) finish(err error, code int, line string) (suffix string) {
	r.mu.Lock()
	finished, state := r.finished, r.state
	r.mu.Unlock()
	if !finished {
		ev := engine.Event{Type: engine.EventRunFinished, ExitCode: code}
		if err != nil {
			r.emit(errorEvent(err, code))
		}
		if state != nil {
			ev.State = state()
		}
		r.emit(ev)
	}
	if r.view != nil {
		r.view.close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.log == nil {
		return ""
	}
	r.log.result(code, line)
	if cerr := r.log.close(); cerr != nil {
		r.Logger.Warn("log file", "error", cerr)
	}
	return fmt.Sprintf(" (log: %s)", r.log.path)
}

// errorEvent describes a failure the pipeline did not report itself:
// refused in preflight, or a usage error.
func errorEvent(err error, code int) engine.Event {
	ev := engine.Event{Type: engine.EventError, ExitCode: code, Reason: engine.ReasonUsage, Message: err.Error()}
	var pe *engine.Error
	if errors.As(err, &pe) {
		ev.Stage, ev.Reason, ev.Message = pe.Stage, engine.Reason(pe), pe.Err.Error()
	}
	return ev
}

// exitOf is the exit code of a command's error and the last line it
// prints on stderr ("" for none), with no control character (a plugin's
// error may quote what it read in the container).
func exitOf(err error) (code int, line string) {
	code, line = exitLine(err)
	return code, termsafe.Lines(line)
}

func exitLine(err error) (code int, line string) {
	var pe *engine.Error
	var ee *exitError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &pe):
		return pe.Code, fmt.Sprintf("reinstall: %s: %v", pe.Stage, pe.Err)
	case errors.As(err, &ee):
		if ee.err == nil {
			return ee.code, ""
		}
		return ee.code, fmt.Sprintf("reinstall: %v", ee.err)
	default:
		return engine.ExitRefused, fmt.Sprintf("reinstall: %v", err)
	}
}

// stateOf is a runtime's state of a container, for the report's result:
// the runtime --runtime names, else auto, chosen by the same rule as every
// other (under a --root other than "/", auto is native).
func stateOf(g *globals, h *vz.Host) func(ctid int) (string, error) {
	return func(ctid int) (string, error) {
		rt, err := g.runtime(h)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := rt.Status(ctx, ctid)
		return string(st), err
	}
}

// textView prints one line per stage start and end (textEvents), with the
// host's log lines between them.
type textView struct {
	io.Writer
	sink engine.Sink
}

func newTextView(w io.Writer) *textView { return &textView{Writer: w, sink: textEvents(w)} }

func (v *textView) event(ev engine.Event) { v.sink(ev) }
func (v *textView) close()                {}

// finish ends the report of the run, if one started (or the error of a
// command --json was given to that failed before its run could start),
// and returns the suffix of the last line on stderr that names the log file.
func (o *runOutput) finish(g *globals, root *cobra.Command, args []string, err error, code int, line string) string {
	defer o.releaseRequest()
	if o.done != nil {
		o.writeResult(g, *o.done)
		return ""
	}
	if o.report == nil {
		if err == nil || !o.json && !o.wantsResult() {
			return ""
		}
		command := "reinstall"
		if c, _, ferr := root.Find(args); ferr == nil && c.Name() == "recover" {
			command = "recover"
		}
		o.start(g, command)
	}
	suffix := o.report.finish(err, code, line)
	if o.wantsResult() || o.request != nil {
		res := o.report.result(err, code, line)
		res.Target, res.RequestID = o.target, o.requestID
		if res.RC == 0 {
			res.Msg = successMsg(res)
		}
		o.recordRequest(g, res)
		o.writeResult(g, res)
	}
	return suffix
}

// result is the run's result object.
func (r *runReport) result(err error, code int, line string) runResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := newRunResult(err, code, line, time.Since(r.started))
	res.CTID, res.RunID, res.State = r.ctid, r.runID, r.endState
	if r.log != nil {
		res.Log = r.log.path
	}
	return res
}

// writeResult prints the result object, if the run was asked for one.
func (o *runOutput) writeResult(g *globals, res runResult) {
	if !o.wantsResult() {
		return
	}
	w := g.stdout
	if o.resultFD > 2 {
		w = resultWriter(o.resultFD)
	}
	writeResult(w, res)
}

// containerState is the container's state now, "" if it is not known.
func (r *runReport) containerState() string {
	r.mu.Lock()
	state := r.state
	r.mu.Unlock()
	if state == nil {
		return ""
	}
	return state()
}
