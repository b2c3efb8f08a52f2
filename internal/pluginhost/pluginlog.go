package pluginhost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// stderrTailLines is how many of a plugin's last own lines crash reports quote.
const stderrTailLines = 20

// goPluginModule ends the logger name (@module) the SDK gives go-plugin's
// own messages inside a plugin ("plugin address" and the like): they are
// logged, but are not the plugin's last words.
const goPluginModule = ".go-plugin"

// pluginOutput takes everything a plugin writes: its stderr file descriptor
// (the SDK's JSON logger, the Go runtime's panics, the standard log
// package) and, after the handshake, its os.Stdout and os.Stderr, which
// go-plugin forwards over the connection. Each line is logged at its own
// level: to the operator's Logger when that logger shows the level, else to
// the run's log file alone (LogFile), so every line reaches the file once.
// A panic's stack goes to the log file only; its first line is kept for the
// error. The last lines of the plugin's own (not go-plugin's) are kept for
// crash reports.
type pluginOutput struct {
	name    string       // the plugin's name as launched
	logger  hclog.Logger // the operator's log (which also feeds the log file)
	logFile hclog.Logger // the log file alone; nil: logger

	mu      sync.Mutex
	max     int
	lines   []string      // the plugin's own last lines, rendered
	levels  []hclog.Level // the level each was logged at
	shownAt []bool        // whether it went to the operator's logger
	panic   string        // the first line of a panic or fatal error
	stack   []string      // the lines after it, until they are logged
	inPanic bool
	partial map[string][]byte
}

func newPluginOutput(name string, logger, logFile hclog.Logger, max int) *pluginOutput {
	return &pluginOutput{name: name, logger: logger, logFile: logFile, max: max, partial: map[string][]byte{}}
}

// source is a writer for one of the plugin's streams; lines are split per stream.
func (o *pluginOutput) source(stream string) *outputStream {
	return &outputStream{o: o, stream: stream}
}

type outputStream struct {
	o      *pluginOutput
	stream string
}

func (s *outputStream) Write(p []byte) (int, error) {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	buf := append(s.o.partial[s.stream], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		s.o.line(string(buf[:i]))
		buf = buf[i+1:]
	}
	s.o.partial[s.stream] = slices.Clone(buf)
	return len(p), nil
}

// close ends the stream: an unfinished last line and a panic are logged.
func (s *outputStream) close() {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	if rest := s.o.partial[s.stream]; len(rest) > 0 {
		s.o.line(string(rest))
		delete(s.o.partial, s.stream)
	}
	s.o.flushPanic()
}

// line routes one line; o.mu is held.
func (o *pluginOutput) line(text string) {
	text = strings.TrimRight(text, "\r")
	if !strings.HasPrefix(text, "{") {
		// The Go runtime's crash report: everything after its first line is
		// the stack, kept off the operator's terminal.
		if !o.inPanic && o.panic == "" && (strings.HasPrefix(text, "panic: ") || strings.HasPrefix(text, "fatal error: ")) {
			o.panic, o.inPanic = text, true
			o.keep(text, hclog.Error, false)
			return
		}
		if o.inPanic {
			o.stack = append(o.stack, text)
			return
		}
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	e := parseLogLine(text)
	name := o.name
	if e.module != "" {
		if _, stage, ok := strings.Cut(e.module, "."); ok && !strings.HasSuffix(e.module, goPluginModule) {
			name += "." + stage
		}
	}
	shown := o.log(name, e.level, e.message, e.args, e.details)
	if !strings.HasSuffix(e.module, goPluginModule) {
		o.keep(e.render(), e.level, shown)
	}
}

// log writes one entry where its level belongs and reports whether the
// operator's logger took it. Multi-line values (stacks) are only written
// to the log file.
func (o *pluginOutput) log(name string, level hclog.Level, msg string, args, details []any) bool {
	if o.logFile == nil {
		o.logger.Named(name).Log(level, msg, append(args, details...)...)
		return level >= o.logger.GetLevel()
	}
	if level < o.logger.GetLevel() || level < hclog.Debug {
		o.logFile.Named(name).Log(level, msg, append(args, details...)...)
		return false
	}
	o.logger.Named(name).Log(level, msg, args...)
	if len(details) > 0 {
		o.logFile.Named(name).Log(level, msg+" (details)", details...)
	}
	return true
}

// keep adds a line to the tail; o.mu is held.
func (o *pluginOutput) keep(line string, level hclog.Level, shown bool) {
	o.lines = append(o.lines, line)
	o.levels = append(o.levels, level)
	o.shownAt = append(o.shownAt, shown)
	if n := len(o.lines) - o.max; n > 0 {
		o.lines, o.levels, o.shownAt = o.lines[n:], o.levels[n:], o.shownAt[n:]
	}
}

// flushPanic logs a collected panic with its stack to the log file; o.mu is held.
func (o *pluginOutput) flushPanic() {
	if !o.inPanic {
		return
	}
	o.inPanic = false
	to, level := o.logFile, hclog.Error
	if to == nil {
		to, level = o.logger, hclog.Debug // the stack stays off the operator's terminal
	}
	to.Named(o.name).Log(level, "the plugin crashed: "+o.panic, "stack", strings.TrimSpace(strings.Join(o.stack, "\n")))
	o.stack = nil
}

// unshown returns the kept lines the operator's logger did not print, trace
// lines aside (they stay in the log file).
func (o *pluginOutput) unshown() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for i, line := range o.lines {
		if !o.shownAt[i] && o.levels[i] > hclog.Trace {
			out = append(out, line)
		}
	}
	return out
}

// Lines returns the plugin's own kept lines, oldest first.
func (o *pluginOutput) Lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lines)
}

// panicked reports whether the plugin's runtime printed a panic or fatal error.
func (o *pluginOutput) panicked() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.panic != ""
}

// summary is the line that best says what went wrong: a panic's first line
// if there was one, else the plugin's last own line of the highest level.
func (o *pluginOutput) summary() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.panic != "" {
		return o.panic
	}
	best := -1
	for i := range o.lines {
		if best < 0 || o.levels[i] >= o.levels[best] {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return o.lines[best]
}

// logLine is one parsed line: an hclog JSON entry, a "[LEVEL] text" line
// (go-plugin's convention) or plain text (debug).
type logLine struct {
	level   hclog.Level
	module  string
	message string
	args    []any // single-line key-value pairs
	details []any // multi-line ones (stacks)
	plain   bool  // a line without a level of its own
}

func parseLogLine(text string) logLine {
	if strings.HasPrefix(text, "{") {
		var entry map[string]any
		if json.Unmarshal([]byte(text), &entry) == nil {
			if msg, ok := entry["@message"].(string); ok {
				return jsonLogLine(entry, msg)
			}
		}
	}
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if rest, ok := strings.CutPrefix(text, "["+strings.ToUpper(l.String())+"]"); ok {
			return logLine{level: l, message: strings.TrimSpace(rest)}
		}
	}
	return logLine{level: hclog.Debug, message: text, plain: true}
}

func jsonLogLine(entry map[string]any, msg string) logLine {
	e := logLine{message: msg, level: hclog.LevelFromString(fmt.Sprint(entry["@level"]))}
	if e.level == hclog.NoLevel {
		e.level = hclog.Info
	}
	e.module, _ = entry["@module"].(string)
	var keys []string
	for k := range entry {
		if !strings.HasPrefix(k, "@") && k != "timestamp" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fmt.Sprint(entry[k])
		if strings.Contains(v, "\n") {
			e.details = append(e.details, k, v)
			continue
		}
		e.args = append(e.args, k, v)
	}
	return e
}

// render is the line as crash reports quote it: "[LEVEL] message k=v".
func (e logLine) render() string {
	if e.plain {
		return e.message
	}
	out := fmt.Sprintf("[%s] %s", strings.ToUpper(e.level.String()), e.message)
	for i := 0; i+1 < len(e.args); i += 2 {
		v := fmt.Sprint(e.args[i+1])
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		out += fmt.Sprintf(" %s=%s", e.args[i], v)
	}
	return out
}
