package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// The test binary doubles as the external plugin "stalling" (when
// envStallingPlugin is set): a backup-retention stage whose Run fails while
// the file fail_while exists, and while stall_while exists creates the file
// stalled and waits until it is cancelled.
const envStallingPlugin = "REINSTALL_TEST_STALLING_PLUGIN"

func init() {
	if os.Getenv(envStallingPlugin) != "" {
		sdk.Serve(&sdk.Plugin{Name: "stalling", Version: "0.0.1", Stages: map[string]sdk.Stage{sdk.KindBackupRetention: stallingStage{}}})
		os.Exit(0)
	}
}

type stallingStage struct{}

type stallingConfig struct {
	FailWhile  string `hcl:"fail_while" description:"Run fails while this file exists"`
	StallWhile string `hcl:"stall_while" description:"Run waits to be cancelled while this file exists"`
	Stalled    string `hcl:"stalled" description:"the file Run creates once it waits"`
}

func (stallingStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(stallingConfig{}) }

func (stallingStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (stallingStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c stallingConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	if exists(c.FailWhile) {
		return nil, fmt.Errorf("stalling: failing while %s exists", c.FailWhile)
	}
	if exists(c.StallWhile) {
		if err := os.WriteFile(c.Stalled, nil, 0o600); err != nil {
			return nil, err
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &sdk.Result{}, nil
}

func (stallingStage) Rollback(context.Context, *sdk.RollbackRequest) error { return nil }

// SIGTERM during recover cancels it as it does a reinstall: the command
// ends its report (an error and run-finished on --json) and exits with its
// code instead of dying by the signal.
func TestRecoverIsInterruptedCleanly(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "stalling", fmt.Appendf(nil, "#!/bin/sh\nexec env %s=1 %s\n", envStallingPlugin, os.Args[0]), 0o755)
	env := []string{"REINSTALL_PLUGIN_DIR=" + dir}
	fail, stall, stalled := h.Path("stalling-fail"), h.Path("stalling-stall"), h.Path("stalling-stalled")
	file := h.writePipelineFile("stalling.hcl", fmt.Sprintf(`pipeline "stalling" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "backup-retention" "stalling" {
    plugin      = "stalling"
    fail_while  = %q
    stall_while = %q
    stalled     = %q
  }
}
`, fail, stall, stalled))
	must(t, os.WriteFile(fail, nil, 0o600))
	if r := h.cliEnv(env, "--pipeline", file, "101"); r.code != engine.ExitRecover {
		t.Fatalf("exit %d, want %d to leave a run to recover\n%s", r.code, engine.ExitRecover, r.stderr)
	}
	must(t, os.Remove(fail))
	must(t, os.WriteFile(stall, nil, 0o600))

	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "recover", "--json", "101")
	cmd.Env = append(append(os.Environ(), "REINSTALL_TEST_CLI=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second // a plugin left behind holding its output
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	waitFor(t, "recover to run the stalling stage", func() bool { return exists(stalled) })
	cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case <-exited:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-exited
		t.Fatalf("recover still ran a minute after SIGTERM\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code <= 0 {
		t.Fatalf("recover after SIGTERM: exit %d (%v), want an exit code of its own\n%s", code, cmd.ProcessState, stderr.String())
	}
	events := parseEvents(t, stdout.String())
	if end := events[len(events)-1]; end.Type != "run-finished" || end.Command != "recover" || end.ExitCode == nil || *end.ExitCode != cmd.ProcessState.ExitCode() {
		t.Errorf("the last event %+v, want run-finished of recover with the exit code", end)
	}
	lastOf(t, events, "error")

	must(t, os.Remove(stall))
	h.recoverAfter(env, fail, engine.RecoveredForward)
}
