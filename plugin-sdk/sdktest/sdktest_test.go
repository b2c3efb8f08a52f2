package sdktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestMain serves the test plugin when the binary is started as one (by
// Conformance), and runs the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(sdk.Handshake.MagicCookieKey) != "" {
		serveTestPlugin(os.Getenv(envBroken))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type greetConfig struct {
	Name  string   `hcl:"name" description:"Who to greet."`
	Argv  []string `hcl:"argv,optional"`
	Token string   `hcl:"token,optional" sensitive:"true"`
	Panic bool     `hcl:"panic,optional"`
}

// greetStage journals, writes a file, runs a command, logs and reports.
type greetStage struct{}

func (greetStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(greetConfig{}) }

func (greetStage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	var c greetConfig
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: err.Error()}}
	}
	if cfg.IsKnown("name") && c.Name == "" {
		return sdk.Diagnostics{{Summary: "name is empty", Attribute: "name"}}
	}
	return nil
}

func (greetStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c greetConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	if c.Panic {
		panic("greet exploded")
	}
	if err := req.Host.Journal(ctx, "write-greeting", sdk.PhaseBegin, map[string]string{"path": "/etc/greeting"}); err != nil {
		return nil, err
	}
	if err := req.Host.WriteFile(ctx, "/etc/greeting", []byte("hello "+c.Name+"\n"), 0o644, true); err != nil {
		return nil, err
	}
	if err := req.Host.Journal(ctx, "write-greeting", sdk.PhaseDone, nil); err != nil {
		return nil, err
	}
	req.UI.Progress("greeting", 1, 2, "files")
	var stdout bytes.Buffer
	code, err := req.Host.Exec(ctx, sdk.ExecRequest{Argv: c.Argv, Stdin: []byte("in"), Stdout: &stdout})
	if err != nil {
		return nil, err
	}
	if _, err := req.Host.ReadFile(ctx, "/etc/missing"); !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading a missing file: %v, want ErrNotExist", err)
	}
	token, err := req.Host.Secret(ctx, "token")
	if err != nil {
		return nil, err
	}
	req.UI.Log(sdk.LevelInfo, "greeted "+c.Name)
	return &sdk.Result{Outputs: map[string]string{
		"exit":   fmt.Sprint(code),
		"stdout": stdout.String(),
		"token":  token,
		"ctid":   fmt.Sprint(req.Context.CTID),
	}}, nil
}

func (greetStage) Rollback(ctx context.Context, req *sdk.RollbackRequest) error {
	for _, e := range req.Entries {
		if e.Step == "write-greeting" && e.Phase == sdk.PhaseBegin {
			return req.Host.WriteFile(ctx, e.Data["path"], nil, 0o644, false)
		}
	}
	return errors.New("nothing to roll back")
}

func testPlugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "greeter", Version: "1.2.3", Stages: map[string]sdk.Stage{sdk.KindConfigure: greetStage{}}}
}

func TestServeRunsStageAgainstFakeHost(t *testing.T) {
	c := Serve(t, testPlugin())
	c.Host.SetSecret("token", "t0k")
	c.Host.ExecFunc = func(_ context.Context, req sdk.ExecRequest) (int, error) {
		fmt.Fprintf(req.Stdout, "ran %s with %s", strings.Join(req.Argv, " "), req.Stdin)
		return 7, nil
	}
	out := c.Run(sdk.KindConfigure, map[string]any{"name": "world", "argv": []string{"echo", "hi"}},
		sdk.RunContext{StageName: "greet", CTID: 101})
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	wantOutputs := map[string]string{"exit": "7", "stdout": "ran echo hi with in", "token": "t0k", "ctid": "101"}
	if diff := cmp.Diff(wantOutputs, out.Result.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	wantEvents := []sdk.Event{
		{Stage: "greet", Progress: &sdk.Progress{Message: "greeting", Done: 1, Total: 2, Unit: "files"}},
		{Stage: "greet", Log: &sdk.LogLine{Level: "info", Message: "greeted world"}},
	}
	if diff := cmp.Diff(wantEvents, out.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantJournal := []sdk.JournalEntry{
		{Stage: "greet", Step: "write-greeting", Phase: sdk.PhaseBegin, Data: map[string]string{"path": "/etc/greeting"}},
		{Stage: "greet", Step: "write-greeting", Phase: sdk.PhaseDone, Data: map[string]string{}},
	}
	if diff := cmp.Diff(wantJournal, c.Host.JournalEntries()); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]File{"/etc/greeting": {Data: []byte("hello world\n"), Mode: 0o644}}, c.Host.Files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	wantExecs := []ExecCall{{Argv: []string{"echo", "hi"}, Stdin: []byte("in"), ExitCode: 7}}
	if diff := cmp.Diff(wantExecs, c.Host.ExecCalls()); diff != "" {
		t.Errorf("exec calls (-want +got):\n%s", diff)
	}

	rb := c.Rollback(sdk.KindConfigure, map[string]any{"name": "world"}, sdk.RunContext{StageName: "greet"}, c.Host.JournalEntries())
	if rb.Failure != "" {
		t.Fatalf("Rollback failed: %s", rb.Failure)
	}
	if got := c.Host.Files()["/etc/greeting"].Data; len(got) != 0 {
		t.Errorf("after rollback /etc/greeting = %q, want empty", got)
	}
}

func TestPanicInRunIsAStageFailure(t *testing.T) {
	c := Serve(t, testPlugin())
	out := c.Run(sdk.KindConfigure, map[string]any{"name": "x", "panic": true}, sdk.RunContext{})
	if !strings.Contains(out.Failure, "panicked") || !strings.Contains(out.Failure, "greet exploded") {
		t.Fatalf("Failure = %q, want the panic", out.Failure)
	}
	// The plugin still serves after the panic.
	if info := c.Info(); info.Name != "greeter" {
		t.Errorf("Info after panic = %+v", info)
	}
}

func TestStageErrorsAndValidate(t *testing.T) {
	c := Serve(t, testPlugin())
	out := c.Run(sdk.KindConfigure, map[string]any{"name": 3}, sdk.RunContext{})
	if !strings.Contains(out.Failure, `attribute "name"`) {
		t.Errorf("Failure = %q, want a decode error naming the attribute", out.Failure)
	}
	if out.Result != nil {
		t.Errorf("Result = %+v, want nil on failure", out.Result)
	}
	d := c.Validate(sdk.KindConfigure, map[string]any{"name": ""})
	want := sdk.Diagnostics{{Summary: "name is empty", Attribute: "name"}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
	if d := c.Validate(sdk.KindConfigure, []byte(`{"name":null}`), "name"); len(d) != 0 {
		t.Errorf("Validate with unknown name = %+v, want none", d)
	}
	rb := c.Rollback(sdk.KindConfigure, nil, sdk.RunContext{}, nil)
	if rb.Failure != "nothing to roll back" {
		t.Errorf("Rollback Failure = %q", rb.Failure)
	}
	if _, err := c.Stage().Schema(t.Context(), "swap"); err == nil || !strings.Contains(err.Error(), `serves no "swap" stage`) {
		t.Errorf("Schema(swap) error = %v, want an unknown-kind error", err)
	}
}

func TestSchemaAndInfo(t *testing.T) {
	c := Serve(t, testPlugin())
	want := sdk.Info{Name: "greeter", Version: "1.2.3", Kinds: []string{"configure"}, SDKVersion: sdk.SDKVersion}
	if diff := cmp.Diff(want, c.Info()); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	s := c.Schema(sdk.KindConfigure)
	if a, ok := s.Attribute("token"); !ok || !a.Sensitive || a.Type != "string" {
		t.Errorf("token attribute = %+v, %v", a, ok)
	}
}

func TestRollbackWithoutRollbackerSucceeds(t *testing.T) {
	p := &sdk.Plugin{Name: "plain", Version: "0", Stages: map[string]sdk.Stage{sdk.KindStart: plainStage{}}}
	c := Serve(t, p)
	if out := c.Rollback(sdk.KindStart, nil, sdk.RunContext{}, nil); out.Failure != "" {
		t.Errorf("Rollback Failure = %q, want success", out.Failure)
	}
}

type plainStage struct{}

func (plainStage) Schema() sdk.Schema                                   { return sdk.Schema{} }
func (plainStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }
func (plainStage) Run(context.Context, *sdk.RunRequest) (*sdk.Result, error) {
	return &sdk.Result{}, nil
}

func TestConformance(t *testing.T) {
	Conformance(t, os.Args[0], greetCase)
}

// greetCase runs the greet stage with a secret through a built binary.
var greetCase = RunCase{
	Name:   "greet",
	Kind:   sdk.KindConfigure,
	Config: map[string]any{"name": "world", "argv": []string{"echo"}, "token": "t0k"},
	Setup: func(h *FakeHost) {
		h.ExecFunc = func(_ context.Context, req sdk.ExecRequest) (int, error) {
			fmt.Fprint(req.Stdout, "ok")
			return 0, nil
		}
	},
	Check: func(t *testing.T, out Outcome, h *FakeHost) {
		want := map[string]string{"exit": "0", "stdout": "ok", "token": "t0k", "ctid": "0"}
		if diff := cmp.Diff(want, out.Result.Outputs); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
		if got := string(h.Files()["/etc/greeting"].Data); got != "hello world\n" {
			t.Errorf("/etc/greeting = %q", got)
		}
	},
}
