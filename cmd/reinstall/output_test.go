package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// plannedStages lists the stages of the pipeline a reinstall of 101 runs,
// as `plan --json` gives them.
func (h *testHost) plannedStages() []string {
	h.t.Helper()
	var plan struct {
		Stages []struct {
			Name string `json:"name"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(h.mustCLI("plan", "--json", "101").stdout), &plan); err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, s := range plan.Stages {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		h.t.Fatal("plan --json lists no stage")
	}
	return names
}

// Not on a terminal, a run prints one line per stage start and one per
// stage end (done, or skipped), in order, each naming its stage.
func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	stages := h.plannedStages()
	r := h.mustCLI("101")
	lineRE := regexp.MustCompile(`^reinstall 101: \[(\d+)/(\d+)\] [a-z-]+ "([^"]+)" (\.\.\.|done in \S+|skipped: .*)$`)
	var got []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if m := lineRE.FindStringSubmatch(line); m != nil {
			what := m[4]
			if strings.HasPrefix(what, "done in ") {
				what = "done"
			} else if strings.HasPrefix(what, "skipped") {
				what = "skipped"
			}
			got = append(got, m[3]+" "+what)
		}
	}
	var want []string
	for _, s := range stages {
		if s == "vps-configure" {
			want = append(want, s+" skipped") // default mode: no vps.reinstall
			continue
		}
		want = append(want, s+" ...", s+" done")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stage lines (-want +got):\n%s\nstderr:\n%s", d, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "reinstall 101: pipeline \"default\", ") {
		t.Errorf("stderr does not start with the run's line:\n%s", r.stderr)
	}
	if want := "; the container is running\n"; !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr does not end with %q:\n%s", want, r.stderr)
	}
}

// --quiet prints nothing on success, and only the error line on failure.
func TestQuiet(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\necho chatty\nexit 0\n", 0o755)
	if r := h.mustCLI("--quiet", "101"); r.stdout != "" || r.stderr != "" {
		t.Errorf("--quiet printed\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	h.mustCLI("ct", "stop", "101")
	h.writeScript("vps.reinstall", "#!/bin/sh\necho chatty\nexit 3\n", 0o755)
	r := h.cli("--quiet", "101")
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
		!strings.HasPrefix(r.stderr, "reinstall: vps-reinstall: vps.reinstall exited with status 3") {
		t.Errorf("--quiet failure: exit %d, want 1 and one error line\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// On a terminal the run draws a live list of its stages: through a
// pseudo-terminal, every stage's name shows, with the provision stage's
// files, and the scripts' lines above the list.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\necho hook line on the terminal\nexit 0\n", 0o755)
	stages := h.plannedStages()
	out, code := h.cliTerminal("101")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	text := stripANSI(out)
	for _, s := range stages {
		if !strings.Contains(text, fmt.Sprintf("%q", s)) {
			t.Errorf("stage %q not shown on the terminal:\n%s", s, text)
		}
	}
	for _, want := range []string{"files", "vps-reinstall: hook line on the terminal", "✓", "; the container is running"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q not shown on the terminal:\n%s", want, text)
		}
	}
	if h.status() != "running" {
		t.Errorf("the container is %s after the run", h.status())
	}
}

// cliTerminal runs the CLI with a pseudo-terminal as its stdin, stdout and
// stderr, and returns what it printed and its exit code.
func (h *testHost) cliTerminal(args ...string) (string, int) {
	h.t.Helper()
	return h.cliTerminalSized(&pty.Winsize{Rows: 50, Cols: 150}, args...)
}

// cliTerminalSized is cliTerminal on a terminal of the given size.
func (h *testHost) cliTerminalSized(size *pty.Winsize, args ...string) (string, int) {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, size)
	if err != nil {
		h.t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, tty) // ends with EIO once the process and its children close the terminal
		close(copied)
	}()
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code < 0 {
		h.t.Fatalf("reinstall %v: %v", args, err)
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second): // a process the run started keeps the terminal open
		tty.Close()
		<-copied
	}
	return out.String(), code
}

// A terminal that does not say how wide it is (a pseudo-terminal nobody
// sized) would show an empty stage list: it gets the plain lines instead.
func TestProgressOnAnUnsizedTerminal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	out, code := h.cliTerminalSized(&pty.Winsize{}, "101")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	text := stripANSI(out)
	for _, s := range []string{"template", "vps-reinstall", "swap", "start", "credentials", "reinstall-scripts", "health", "retention"} {
		if !strings.Contains(text, fmt.Sprintf("%q done in", s)) {
			t.Errorf("no plain line for the end of stage %q:\n%s", s, text)
		}
	}
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// escapes are what the scripts write: OSC 52 (set the clipboard) and
// erase the screen.
const (
	oscClipboard = "\x1b]52;c;aGVsbG8=\x07"
	eraseScreen  = "\x1b[2J"
)

// A script's output reaches the operator's terminal and the log file with
// its escape sequences shown, not sent: no ESC byte from it in the plain
// lines, the log file or on a terminal, while --json carries it as it is.
func TestScriptOutputCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\nprintf '\\033]52;c;aGVsbG8=\\007 from vps.reinstall\\n'\nprintf '\\033[2J on stderr\\n' >&2\n", 0o755)
	h.writeScript("vps.configure", "printf '\\033]52;c;aGVsbG8=\\007 from vps.configure\\n'\nprintf '\\033[2J\\n' >&2\n", 0o644)
	shown := termsafe.Printable(oscClipboard)

	r := h.mustCLI("101")
	if strings.Contains(r.stderr, "\x1b") {
		t.Errorf("stderr holds an ESC byte:\n%q", r.stderr)
	}
	for _, want := range []string{"vps-reinstall: " + shown + " from vps.reinstall", "vps-configure: " + shown + " from vps.configure", `vps-reinstall: \x1b[2J on stderr`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	log := readFile(t, h.logFiles("101")[0])
	if strings.Contains(log, "\x1b") {
		t.Errorf("the log file holds an ESC byte:\n%q", log)
	}
	if want := "reinstall.vps-reinstall: " + shown + " from vps.reinstall"; !strings.Contains(log, want) {
		t.Errorf("the log file lacks %q:\n%s", want, log)
	}

	h.mustCLI("ct", "stop", "101")
	out, code := h.cliTerminal("101")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, raw := range []string{"\x1b]", eraseScreen} { // the list itself moves the cursor, never this way
		if strings.Contains(out, raw) {
			t.Errorf("the terminal got %q:\n%q", raw, out)
		}
	}
	if want := "vps-reinstall: " + shown; !strings.Contains(stripANSI(out), want) {
		t.Errorf("the terminal does not show %q:\n%s", want, stripANSI(out))
	}

	h.mustCLI("ct", "stop", "101")
	var messages []string
	for _, ev := range parseEvents(t, h.mustCLI("--json", "101").stdout) {
		if ev.Type == "stage-log" && strings.Contains(ev.Message, "\x1b") {
			messages = append(messages, ev.Stage+": "+ev.Message)
		}
	}
	want := []string{"vps-reinstall: " + oscClipboard + " from vps.reinstall", "vps-reinstall: " + eraseScreen + " on stderr", "vps-configure: " + oscClipboard + " from vps.configure", "vps-configure: " + eraseScreen}
	if d := cmp.Diff(want, messages, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("--json stage-log messages with an ESC (-want +got):\n%s", d)
	}
}

// failingTerminal takes its first left bytes, then fails every write with
// EIO, as a terminal whose ssh connection dropped.
type failingTerminal struct {
	mu     sync.Mutex
	left   int
	failed chan struct{} // closed at the first failed write
}

func (f *failingTerminal) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(b) <= f.left {
		f.left -= len(b)
		return len(b), nil
	}
	if f.left >= 0 {
		f.left = -1
		close(f.failed)
	}
	return 0, syscall.EIO
}

// A terminal that fails mid-run stops the live list, not the run: the
// stages that start after go on (as plain lines), and the view closes
// without a panic and without waiting forever.
func TestProgressViewOnAFailingTerminal(t *testing.T) {
	t.Parallel()
	term := &failingTerminal{left: 300, failed: make(chan struct{})}
	ended := make(chan any, 1)
	go func() {
		defer func() { ended <- recover() }()
		v := newProgressView(term)
		stage := func(i int) engine.Event {
			return engine.Event{CTID: 101, Index: i, Count: 6, Kind: "configure", Stage: fmt.Sprintf("stage-%d", i)}
		}
		with := func(ev engine.Event, typ, msg string) engine.Event {
			ev.Type, ev.Message = typ, msg
			return ev
		}
		v.event(with(stage(1), engine.EventStageStarted, ""))
		v.event(with(stage(1), engine.EventStageLog, "a line"))
		<-term.failed // the list drew until the terminal failed
		v.event(with(stage(1), engine.EventStageFinished, ""))
		for i := 2; i <= 6; i++ {
			v.event(with(stage(i), engine.EventStageStarted, ""))
			v.event(with(stage(i), engine.EventStageLog, "a line"))
			v.event(with(stage(i), engine.EventStageProgress, "copying"))
			fmt.Fprintln(v, "the host's log line")
			v.event(with(stage(i), engine.EventStageFinished, ""))
		}
		v.event(engine.Event{Type: engine.EventRunFinished, CTID: 101, Command: "reinstall", State: "running"})
		v.close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case p := <-ended:
		if p != nil {
			t.Fatalf("the view panicked: %v", p)
		}
	case <-ctx.Done():
		t.Fatal("the view never closed after its terminal failed")
	}
}
