package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// serveAcmeSet serves the plugin set "acme": components license and backup,
// each a configure stage writing "<component> pid=<pid>" to its out file.
func serveAcmeSet() {
	sdk.ServeSet(map[string]*sdk.Plugin{
		"license": {Name: "license", Version: "1.0.0", Stages: map[string]sdk.Stage{sdk.KindConfigure: acmeStage{"license"}}},
		"backup":  {Name: "backup", Version: "2.0.0", Stages: map[string]sdk.Stage{sdk.KindConfigure: acmeStage{"backup"}}},
	})
}

type acmeStage struct{ component string }

type acmeConfig struct {
	Out string `hcl:"out" description:"the file the stage writes its component's name and pid to"`
}

func (acmeStage) Schema() sdk.Schema                                   { return sdk.MustSchemaFromStruct(acmeConfig{}) }
func (acmeStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (s acmeStage) Run(_ context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c acmeConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	return &sdk.Result{}, os.WriteFile(c.Out, fmt.Appendf(nil, "%s pid=%d", s.component, os.Getpid()), 0o600)
}

// TestPluginSetServesTwoStages: one binary serving a plugin set is started
// once per run; two configure stages naming acme.license and acme.backup
// each run their own component in that one process; `plugins lock` pins
// the binary and `plugins list` shows the set's components.
func TestPluginSetServesTwoStages(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "acme", crashyWrapper("set", newTag(t)), 0o755)
	env := []string{"REINSTALL_PLUGIN_DIR=" + dir}
	license, backup := h.Path("license.out"), h.Path("backup.out")
	file := h.writePipelineFile("acme.hcl", fmt.Sprintf(`pipeline "acme" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "license" {
    plugin = "acme.license"
    out    = %q
  }
  stage "configure" "backup" {
    plugin = "acme.backup"
    out    = %q
  }
  stage "backup-retention" "retention" {}
}
`, license, backup))

	r := h.cliEnv(env, "--pipeline", file, "101")
	if r.code != 0 {
		t.Fatalf("reinstall: exit %d\n%s", r.code, r.stderr)
	}
	var pids [2]int
	for i, tc := range []struct{ path, component string }{{license, "license"}, {backup, "backup"}} {
		b, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatalf("stage %s wrote nothing: %v", tc.component, err)
		}
		var got string
		if _, err := fmt.Sscanf(string(b), "%s pid=%d", &got, &pids[i]); err != nil || got != tc.component {
			t.Errorf("stage %s's file holds %q, want the %s component's", tc.component, b, tc.component)
		}
	}
	if pids[0] != pids[1] {
		t.Errorf("the two components ran in processes %d and %d, want one process", pids[0], pids[1])
	}

	// Pins are per binary: one entry for the set, none per component.
	lock := h.cliEnv(env, "plugins", "lock", "--print", file)
	if lock.code != 0 || !strings.Contains(lock.stdout, "acme = { sha256 = ") || strings.Contains(lock.stdout, "acme.") {
		t.Errorf("plugins lock --print: exit %d\n%s%s", lock.code, lock.stdout, lock.stderr)
	}

	list := h.cliEnv(env, "plugins", "list").stdout
	for _, want := range []string{"acme.license 1.0.0 configure", "acme.backup 2.0.0 configure"} {
		if !slices.ContainsFunc(strings.Split(list, "\n"), func(line string) bool {
			return strings.HasPrefix(strings.Join(strings.Fields(line), " "), want)
		}) {
			t.Errorf("plugins list does not show %q:\n%s", want, list)
		}
	}
}
