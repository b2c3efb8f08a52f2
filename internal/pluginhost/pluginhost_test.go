package pluginhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "__plugin" {
		runTestPlugin(os.Args[2])
	}
	if b := os.Getenv(envBehaviour); b != "" {
		runTestPlugin(b)
	}
	os.Exit(m.Run())
}

// newLauncher returns a launcher of this test binary's plugins; when the
// test ends it checks that no plugin process is left.
func newLauncher(t *testing.T) *Launcher {
	dir, err := os.MkdirTemp("", "ph") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	out := &testLogWriter{t: t}
	t.Cleanup(func() {
		out.stop()
		_ = os.RemoveAll(dir)
		if left := leftoverPlugins(); len(left) > 0 {
			t.Errorf("plugin processes left: %v", left)
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return &Launcher{
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "host", Output: out, Level: hclog.Debug}),
		SocketDir:    filepath.Join(dir, "plugins"),
		SelfExe:      os.Args[0],
		StartTimeout: 20 * time.Second,
	}
}

// launch starts a plugin that is closed when the test ends.
func launch(t *testing.T, l *Launcher, spec Spec, svc Services) *Plugin {
	t.Helper()
	p, err := l.Launch(t.Context(), spec, svc)
	if err != nil {
		t.Fatalf("Launch(%+v): %v", spec, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestRunThroughHostServices(t *testing.T) {
	svc := newFakeServices()
	p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, svc)

	info, err := p.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := Info{Name: "testplugin", Version: "0.0.1", Kinds: []string{"configure"}, Capabilities: []string{"test"}, SDKVersion: sdk.SDKVersion, Protocol: 1}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	schema, err := p.Schema(t.Context(), sdk.KindConfigure)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sdk.Schema{Attributes: []sdk.Attribute{{Name: "mode", Type: "string"}}}, schema); diff != "" {
		t.Errorf("Schema (-want +got):\n%s", diff)
	}
	diags, err := p.Validate(t.Context(), sdk.KindConfigure, []byte(`{"mode":"invalid"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sdk.Diagnostics{{Summary: "mode is invalid", Attribute: "mode"}}, diags); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}

	var events []Event
	res, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{}`), sdk.RunContext{StageName: "motd", StageKind: "configure"},
		func(ev Event) { events = append(events, ev) })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := &sdk.Result{Outputs: map[string]string{
		"exit": "5", "stdout": "hi\n", "stderr": "warning\n", "read": "hi\n", "state": "running", "secret": "secret-key",
	}, Reprovision: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	wantEvents := []Event{
		{Stage: "motd", Progress: &Progress{Message: "copying", Done: 1, Total: 2, Unit: "files"}},
		{Stage: "motd", Log: &LogLine{Level: "info", Message: "done with motd"}},
	}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	wantJournal := []sdk.JournalEntry{
		{Step: "write", Phase: "begin", Data: map[string]string{"path": "/etc/motd"}},
		{Step: "write", Phase: "done", Data: map[string]string{}},
	}
	if diff := cmp.Diff(wantJournal, svc.journal); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]byte{"/etc/motd": []byte("hi\n")}, svc.files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"echo", "hi", "stdin=input"}}, svc.execs); diff != "" {
		t.Errorf("execs (-want +got):\n%s", diff)
	}
	if err := p.Rollback(t.Context(), sdk.KindConfigure, []byte(`{}`), sdk.RunContext{StageName: "motd"}, nil, nil); err != nil {
		t.Errorf("Rollback of a stage without Rollbacker: %v", err)
	}
}

func TestStageErrors(t *testing.T) {
	p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, newFakeServices())
	tests := []struct {
		mode, want string
	}{
		{"fail", "disk full"},
		{"handler-panic", "plugin testplugin panicked in Run: handler exploded"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			_, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{"mode":"`+tt.mode+`"}`), sdk.RunContext{StageName: "s"}, nil)
			var se *StageError
			if !errors.As(err, &se) || se.Reason != tt.want || se.Stage != "s" || se.Plugin != "testplugin" {
				t.Fatalf("Run error = %#v, want StageError %q", err, tt.want)
			}
		})
	}
	_, err := p.Run(t.Context(), "swap", nil, sdk.RunContext{StageName: "s"}, nil)
	if err == nil || !strings.Contains(err.Error(), `plugin testplugin: stage s: plugin testplugin serves no "swap" stage`) {
		t.Errorf("Run(swap) error = %v", err)
	}
	_, err = p.Schema(t.Context(), "swap")
	if want := `plugin testplugin: GetSchema(swap): plugin testplugin serves no "swap" stage (it serves [configure])`; err == nil || err.Error() != want {
		t.Errorf("Schema(swap) error = %v, want %s", err, want)
	}
	if !p.Alive() {
		t.Error("plugin died after stage errors")
	}
}

func TestCrashBetweenStages(t *testing.T) {
	p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, newFakeServices())
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, err := p.Info(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "plugin testplugin crashed during GetInfo") || !strings.Contains(err.Error(), "signal: killed") {
		t.Errorf("Info error = %v, want a crash report", err)
	}
	if p.Alive() {
		t.Error("Alive after the process was killed")
	}
	assertGone(t, pid)
}

func TestCrashDuringStage(t *testing.T) {
	tests := []struct {
		name, mode   string
		killFromHost bool
		want         []string
	}{
		{name: "panic", mode: "panic", want: []string{"panic: boom in a goroutine", "exit status 2"}},
		{name: "exit", mode: "exit", want: []string{"[ERROR] about to misbehave", "exit status 3"}},
		{name: "sigkill", mode: "hang", killFromHost: true, want: []string{"[ERROR] about to misbehave", "signal: killed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, newFakeServices())
			pid := p.Pid()
			grandchild := 0
			onEvent := func(ev Event) {
				if ev.Log == nil {
					return
				}
				if g, ok := strings.CutPrefix(ev.Log.Message, "grandchild="); ok {
					grandchild, _ = strconv.Atoi(g)
					if tt.killFromHost {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			_, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{"mode":"`+tt.mode+`"}`), sdk.RunContext{StageName: "crashy"}, onEvent)
			var ce *CrashError
			if !errors.As(err, &ce) {
				t.Fatalf("Run error = %v, want a CrashError", err)
			}
			msg := err.Error()
			t.Logf("crash error: %s", msg)
			if !strings.HasPrefix(msg, "plugin testplugin crashed during stage crashy: ") {
				t.Errorf("error %q lacks the crash prefix", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if !slices.ContainsFunc(ce.StderrTail, func(l string) bool { return strings.Contains(l, "about to misbehave") }) {
				t.Errorf("stderr tail %q lacks the plugin's last log line", ce.StderrTail)
			}
			if p.Alive() {
				t.Error("Alive after a crash")
			}
			assertGone(t, pid, grandchild)
			if _, err := p.Run(t.Context(), sdk.KindConfigure, nil, sdk.RunContext{StageName: "again"}, nil); !errors.Is(err, ErrClosed) {
				t.Errorf("Run after crash error = %v, want ErrClosed", err)
			}
		})
	}
}

func TestStageTimeoutKillsPlugin(t *testing.T) {
	for _, mode := range []string{"hang", "hang-ctx"} {
		t.Run(mode, func(t *testing.T) {
			p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, newFakeServices())
			pid, grandchild := p.Pid(), 0
			ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
			defer cancel()
			_, err := p.Run(ctx, sdk.KindConfigure, []byte(`{"mode":"`+mode+`"}`), sdk.RunContext{StageName: "slow"}, func(ev Event) {
				if ev.Log != nil {
					if g, ok := strings.CutPrefix(ev.Log.Message, "grandchild="); ok {
						grandchild, _ = strconv.Atoi(g)
					}
				}
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run error = %v, want DeadlineExceeded", err)
			}
			var ce *CrashError
			if errors.As(err, &ce) {
				t.Errorf("a timeout is not a crash: %v", err)
			}
			if !strings.Contains(err.Error(), "plugin testplugin: stage slow stopped") {
				t.Errorf("error %q does not name the plugin and stage", err)
			}
			assertGone(t, pid, grandchild)
		})
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    string
	}{
		{name: "stdout", want: "plugin stdout wrote to stdout before the handshake (plugins must log to stderr): hello from init"},
		{name: "v2", want: "plugin v2 speaks stage protocol version 2, but this reinstall speaks version 1: install a build of the plugin made with a plugin-sdk for protocol 1"},
		{name: "exit-early", want: "plugin exit-early exited before the handshake: cannot read license file (exit status 4)"},
		{name: "slow-start", timeout: 300 * time.Millisecond, want: "plugin slow-start did not complete the handshake within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLauncher(t)
			if tt.timeout > 0 {
				l.StartTimeout = tt.timeout
			}
			p, err := l.Launch(t.Context(), Spec{Name: tt.name}, newFakeServices())
			if err == nil {
				_ = p.Close()
				t.Fatal("Launch succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("Launch error:\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestLaunchCancelled(t *testing.T) {
	l := newLauncher(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := l.Launch(ctx, Spec{Name: "slow-start"}, newFakeServices())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Launch error = %v, want DeadlineExceeded", err)
	}
}
