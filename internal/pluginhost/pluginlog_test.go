package pluginhost

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestCrashLogsUnshownStderr checks a crash report logs the plugin's last
// lines the host's logger did not print live (below its level).
func TestCrashLogsUnshownStderr(t *testing.T) {
	l := newLauncher(t)
	var buf syncBuffer
	l.Logger = hclog.New(&hclog.LoggerOptions{Name: "host", Output: &buf, Level: hclog.Warn})
	p := launch(t, l, Spec{Name: "testplugin"}, newFakeServices())
	_, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{"mode":"exit"}`), sdk.RunContext{StageName: "crashy"}, nil)
	var ce *CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("Run error = %v, want a CrashError", err)
	}
	out := buf.String()
	head, block, ok := strings.Cut(out, "crashed during stage crashy; its last lines")
	if !ok {
		t.Fatalf("no crash report in the host log:\n%s", out)
	}
	if !strings.Contains(head, "[ERROR] host.testplugin.crashy: about to misbehave") {
		t.Errorf("the plugin's error line was not logged live:\n%s", out)
	}
	if !strings.Contains(block, "[INFO] working on it") {
		t.Errorf("the crash report lacks the unshown info line:\n%s", out)
	}
	if strings.Contains(block, "about to misbehave") {
		t.Errorf("the crash report repeats a line already shown:\n%s", out)
	}
}

// TestPluginOutputRouting feeds a plugin's stderr lines to its output: each
// reaches exactly one of the operator's log (at the levels it shows) and
// the log file (everything else, and a panic's stack); go-plugin's own
// lines are logged but are never the plugin's last words.
func TestPluginOutputRouting(t *testing.T) {
	var term, file syncBuffer
	terminal := hclog.New(&hclog.LoggerOptions{Name: "host", Output: &term, Level: hclog.Warn})
	logFile := hclog.New(&hclog.LoggerOptions{Name: "host", Output: &file, Level: hclog.Trace})
	o := newPluginOutput("acme", terminal, logFile, 20)
	fd := o.source("stderr")
	for _, line := range []string{
		`{"@level":"trace","@message":"t-line","@module":"acme.license","k":"v"}`,
		`{"@level":"info","@message":"i-line","@module":"acme.license"}`,
		`{"@level":"warn","@message":"w-line","@module":"acme.license","timestamp":"x"}`,
		`{"@level":"debug","@message":"plugin address","@module":"acme.go-plugin"}`,
		`[INFO] tagged-line`,
		`plain-line`,
		`panic: boom`,
		``,
		`goroutine 7 [running]:`,
		`main.f()`,
	} {
		if _, err := fd.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	fd.close()
	terminalOut, fileOut := term.String(), file.String()
	for _, want := range []string{"[WARN]  host.acme.license: w-line"} {
		if !strings.Contains(terminalOut, want) {
			t.Errorf("terminal lacks %q:\n%s", want, terminalOut)
		}
	}
	for _, not := range []string{"t-line", "i-line", "plain-line", "boom", "goroutine", "timestamp", "plugin address"} {
		if strings.Contains(terminalOut, not) {
			t.Errorf("terminal shows %q:\n%s", not, terminalOut)
		}
	}
	for _, want := range []string{
		"[TRACE] host.acme.license: t-line: k=v",
		"[INFO]  host.acme.license: i-line",
		"[DEBUG] host.acme: plugin address",
		"[INFO]  host.acme: tagged-line",
		"[DEBUG] host.acme: plain-line",
		"[ERROR] host.acme: the plugin crashed: panic: boom:",
		"goroutine 7 [running]:",
		"main.f()",
	} {
		if !strings.Contains(fileOut, want) {
			t.Errorf("log file lacks %q:\n%s", want, fileOut)
		}
	}
	if strings.Contains(fileOut, "w-line") {
		t.Errorf("log file has the line the terminal's logger took (its own sink writes it):\n%s", fileOut)
	}
	want := []string{"[TRACE] t-line k=v", "[INFO] i-line", "[WARN] w-line", "[INFO] tagged-line", "plain-line", "panic: boom"}
	if diff := cmp.Diff(want, o.Lines()); diff != "" {
		t.Errorf("kept lines (-want +got):\n%s", diff)
	}
	if got := o.summary(); got != "panic: boom" {
		t.Errorf("summary %q, want the panic", got)
	}
}

// TestPluginOutputSummary: without a panic, the error quotes the plugin's
// last line of the highest level, not whatever came last.
func TestPluginOutputSummary(t *testing.T) {
	o := newPluginOutput("acme", hclog.NewNullLogger(), nil, 20)
	fd := o.source("stderr")
	_, _ = fd.Write([]byte(`{"@level":"error","@message":"license server refused","@module":"acme.license"}` + "\n" + "some debug text\n" + "unterminated"))
	fd.close()
	if got, want := o.summary(), "[ERROR] license server refused"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got := o.Lines(); len(got) != 3 || got[2] != "unterminated" {
		t.Errorf("kept lines %q, want the unterminated last line too", got)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
