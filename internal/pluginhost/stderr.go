package pluginhost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
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
	partial []byte
	panic   string
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
	line = renderLogLine(line)
	if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
		t.panic = line
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
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
