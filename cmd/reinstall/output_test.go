package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
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
	cmd := exec.Command(os.Args[0], append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 150})
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

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }
