package main

import (
	"strings"
	"testing"
)

// TestPluginDescribesItself: plan shows what a vendor plugin says its stage
// would do (its Describe) and the default timeout from its info; a stage
// past that timeout is stopped as if the pipeline had set it.
func TestPluginDescribesItself(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
	env := []string{"REINSTALL_PLUGIN_DIR=" + dir}
	file := h.writePipelineFile("crashy.hcl", crashyPipeline("reinstall-hook", `    mode = "hang"`))

	r := h.cliEnv(env, "plan", "--pipeline", file, "101")
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		`2. reinstall-hook "activate" (plugin crashy): will run`,
		"     creates " + h.Path("vz/private/101") + "/crashy-was-here",
		"     crashy would hang (after provision)",
		"     timeout 3s, on failure rollback",
		// Built-ins describe themselves the same way.
		"     starts the container from " + h.Path("vz/private/101"),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "runs in plugin crashy") {
		t.Errorf("plan did not ask the plugin:\n%s", r.stdout)
	}

	r = h.cliEnv(env, "--pipeline", file, "101")
	if r.code != 1 || !strings.Contains(r.lastLine(), "timed out after 3s") {
		t.Errorf("a hang past the plugin's default timeout: exit %d, last line %q", r.code, r.lastLine())
	}
}

// TestPluginFailureNamesTheAttribute: a stage that fails because of one of
// its attributes (sdk.ErrorAt) has the operator's error say where in the
// pipeline file that attribute is set.
func TestPluginFailureNamesTheAttribute(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
	file := h.writePipelineFile("crashy.hcl", crashyPipeline("reinstall-hook", `    mode = "attr-fail"`))
	r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--pipeline", file, "101")
	want := "reinstall: activate: mode: crashy: this mode always fails (mode is set at " + file + ":5:12)"
	if r.code != 1 || !strings.HasPrefix(r.lastLine(), want) {
		t.Errorf("exit %d, last line\n got %q\nwant %q...", r.code, r.lastLine(), want)
	}
}
