package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// The test binary doubles as the plugins under test: `<test binary>
// __plugin <behaviour>` (as built-ins are launched) or REINSTALL_TEST_PLUGIN=
// <behaviour> (as an external plugin). REINSTALL_TEST_MARKER, if set, is a
// file the plugin creates first thing, to prove it ran.
const (
	envBehaviour = "REINSTALL_TEST_PLUGIN"
	envMarker    = "REINSTALL_TEST_MARKER"
)

// runTestPlugin serves the plugin of a behaviour; it does not return.
func runTestPlugin(behaviour string) {
	if m := os.Getenv(envMarker); m != "" {
		_ = os.WriteFile(m, []byte("ran\n"), 0o644)
	}
	switch behaviour {
	case "stdout":
		fmt.Println("hello from init")
		sdk.Serve(testPlugin())
	case "v2":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  sdk.Handshake,
			VersionedPlugins: map[int]plugin.PluginSet{2: sdk.PluginSet(testPlugin())},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
	case "exit-early":
		fmt.Fprintln(os.Stderr, "cannot read license file")
		os.Exit(4)
	case "slow-start":
		time.Sleep(time.Hour)
	default:
		sdk.Serve(testPlugin())
	}
	os.Exit(0)
}

func testPlugin() *sdk.Plugin {
	return &sdk.Plugin{
		Name:         "testplugin",
		Version:      "0.0.1",
		Capabilities: []string{"test"},
		Stages:       map[string]sdk.Stage{sdk.KindConfigure: testStage{}},
	}
}

// testStage's Run does what its config's "mode" says.
type testStage struct{}

type testConfig struct {
	Mode string `hcl:"mode,optional"`
}

func (testStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(testConfig{}) }

func (testStage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	var c testConfig
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: err.Error()}}
	}
	if c.Mode == "invalid" {
		return sdk.Diagnostics{{Summary: "mode is invalid", Attribute: "mode"}}
	}
	return nil
}

func (testStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c testConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	switch c.Mode {
	case "fail":
		return nil, fmt.Errorf("disk full")
	case "handler-panic":
		panic("handler exploded")
	case "env":
		return &sdk.Result{Outputs: map[string]string{"env": strings.Join(os.Environ(), "\x00")}}, nil
	case "panic", "exit", "hang", "hang-ctx":
		return crash(ctx, req, c.Mode)
	}
	return services(ctx, req)
}

// services uses every host service a stage has, through the broker.
func services(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	h := req.Host
	if err := h.Journal(ctx, "write", sdk.PhaseBegin, map[string]string{"path": "/etc/motd"}); err != nil {
		return nil, err
	}
	if err := h.WriteFile(ctx, "/etc/motd", []byte("hi\n"), 0o640, true); err != nil {
		return nil, err
	}
	if err := h.Journal(ctx, "write", sdk.PhaseDone, nil); err != nil {
		return nil, err
	}
	req.UI.Progress("copying", 1, 2, "files")
	var stdout, stderr bytes.Buffer
	code, err := h.Exec(ctx, sdk.ExecRequest{Argv: []string{"echo", "hi"}, Stdin: []byte("input"), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return nil, err
	}
	data, err := h.ReadFile(ctx, "/etc/motd")
	if err != nil {
		return nil, err
	}
	state, err := h.Status(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := h.Secret(ctx, "key")
	if err != nil {
		return nil, err
	}
	req.UI.Log(sdk.LevelInfo, "done with "+req.Context.StageName)
	return &sdk.Result{Outputs: map[string]string{
		"exit": fmt.Sprint(code), "stdout": stdout.String(), "stderr": stderr.String(),
		"read": string(data), "state": string(state), "secret": secret,
	}, Reprovision: true}, nil
}

// crash starts a grandchild (to check the process group is killed), tells
// the host its pid, then dies or hangs.
func crash(ctx context.Context, req *sdk.RunRequest, mode string) (*sdk.Result, error) {
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		return nil, err
	}
	// The stderr line is in its pipe before the host hears of the grandchild.
	req.Logger.Info("working on it", "mode", mode)
	req.Logger.Error("about to misbehave", "mode", mode)
	req.UI.Log(sdk.LevelInfo, fmt.Sprintf("grandchild=%d", sleep.Process.Pid))
	time.Sleep(100 * time.Millisecond) // let the event leave before dying
	switch mode {
	case "panic":
		go func() { panic("boom in a goroutine") }()
	case "exit":
		os.Exit(3)
	case "hang-ctx":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	time.Sleep(time.Hour) // "hang" ignores ctx; "panic" dies meanwhile
	return nil, nil
}
