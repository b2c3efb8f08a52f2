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

// stderrTailLines is how many of a plugin's last stderr lines crash reports quote.
const stderrTailLines = 20

// stderrTail keeps the last lines a plugin wrote to stderr (go-plugin copies
// them here raw, as ClientConfig.Stderr). hclog JSON lines are rendered as
// "[LEVEL] message key=value"; the first line of a Go panic is kept aside
// because its stack trace would push it out of the ring.
type stderrTail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	levels  []hclog.Level // the level go-plugin logs each line at
	partial []byte
	panic   string
	inPanic bool
}

func newStderrTail(max int) *stderrTail { return &stderrTail{max: max} }

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	return len(p), nil
}

func (t *stderrTail) add(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	level := t.levelOf(line)
	line = renderLogLine(line)
	if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
		t.panic = line
	}
	t.lines = append(t.lines, line)
	t.levels = append(t.levels, level)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
		t.levels = t.levels[len(t.levels)-t.max:]
	}
}

// levelOf is the level go-plugin's logStderr gives a raw stderr line: an
// hclog JSON line's own, a "[LEVEL]" prefix, error from a panic on, else debug.
func (t *stderrTail) levelOf(line string) hclog.Level {
	var entry struct {
		Level string `json:"@level"`
	}
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &entry) == nil && entry.Level != "" {
		return hclog.LevelFromString(entry.Level)
	}
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if strings.HasPrefix(line, "["+strings.ToUpper(l.String())+"]") {
			return l
		}
	}
	if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
		t.inPanic = true
	}
	if t.inPanic {
		return hclog.Error
	}
	return hclog.Debug
}

// unshown returns the kept lines a logger at level shown did not print.
func (t *stderrTail) unshown(shown hclog.Level) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for i, line := range t.lines {
		if t.levels[i] < shown {
			out = append(out, line)
		}
	}
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	return out
}

// Lines returns the kept lines, oldest first.
func (t *stderrTail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := slices.Clone(t.lines)
	if len(t.partial) > 0 {
		lines = append(lines, string(t.partial))
	}
	return lines
}

// summary is the line that best says what went wrong: a panic's message if
// there was one, else the last line.
func (t *stderrTail) summary() string {
	t.mu.Lock()
	panicLine := t.panic
	t.mu.Unlock()
	if panicLine != "" {
		return panicLine
	}
	if lines := t.Lines(); len(lines) > 0 {
		return lines[len(lines)-1]
	}
	return ""
}

// renderLogLine turns an hclog JSON line into "[LEVEL] message k=v"; other
// lines are returned as they are. Multi-line values (stacks) are left out.
func renderLogLine(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		return line
	}
	msg, ok := entry["@message"].(string)
	if !ok {
		return line
	}
	out := fmt.Sprintf("[%s] %s", strings.ToUpper(fmt.Sprint(entry["@level"])), msg)
	var keys []string
	for k := range entry {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fmt.Sprint(entry[k])
		if strings.Contains(v, "\n") {
			continue
		}
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		out += fmt.Sprintf(" %s=%s", k, v)
	}
	return out
}
