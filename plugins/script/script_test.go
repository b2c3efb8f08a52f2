package script

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

// TestConfigureScript runs vps.configure through sdktest: its content is
// fed to the container's shell on stdin with the contract's environment,
// journaled before; a missing script runs nothing; a failing one fails the
// stage with its status.
func TestConfigureScript(t *testing.T) {
	root := t.TempDir()
	script := "/etc/vz/conf/vps.configure"
	if err := os.MkdirAll(filepath.Join(root, "etc/vz/conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, script), []byte("echo configured"), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := sdk.RunContext{CTID: 101, VEID: "101", HostRoot: root, StageName: "vps-configure"}
	c := sdktest.Serve(t, Plugin())

	out := c.Run(sdk.KindConfigure, map[string]any{"script": script}, rc)
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	if out.Result.Outputs["ran"] != "true" || out.Result.Outputs["exit"] != "0" {
		t.Errorf("outputs %v, want ran and exit 0", out.Result.Outputs)
	}
	execs := c.Host.ExecCalls()
	if len(execs) != 1 {
		t.Fatalf("%d commands ran, want the shell once", len(execs))
	}
	if got := string(execs[0].Stdin); got != "echo configured\n" {
		t.Errorf("stdin %q, want the script with a final newline", got)
	}
	if execs[0].Argv[0] != "/bin/sh" || !slices.Contains(execs[0].Env, "VEID=101") {
		t.Errorf("command %v env %v, want /bin/sh with VEID=101", execs[0].Argv, execs[0].Env)
	}
	if e := c.Host.JournalEntries(); len(e) == 0 || e[0].Step != "run-script" || e[0].Phase != sdk.PhaseBegin {
		t.Errorf("the run was not journaled first: %v", e)
	}

	missing := c.Run(sdk.KindConfigure, map[string]any{"script": "/etc/vz/conf/none"}, rc)
	if missing.Failure != "" || missing.Result.Outputs["ran"] != "false" {
		t.Errorf("a missing script: failure %q, outputs %v; want nothing run", missing.Failure, missing.Result.Outputs)
	}

	c.Host.ExecFunc = func(_ context.Context, _ sdk.ExecRequest) (int, error) { return 3, nil }
	failed := c.Run(sdk.KindConfigure, map[string]any{"script": script}, rc)
	if !strings.Contains(failed.Failure, "vps.configure exited with status 3 inside the container") {
		t.Errorf("a failing script: failure %q", failed.Failure)
	}
}
