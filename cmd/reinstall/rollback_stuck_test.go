package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A stage whose Rollback always fails (a vendor bug) must not stop the
// others. After the swap its work lives in the new private area, which the
// rollback discards: the run ends rolled back (exit 1), with a warning.
func TestFailingStageRollbackIsDiscardedWithTheNewArea(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
	pipeline := h.writePipelineFile("crashy.hcl", crashyPipeline("configure", `    mode = "bad-rollback"`))
	before := h.tree("")

	r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--pipeline", pipeline, "101")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
	}
	if want := "reinstall: activate: crashy: failing on purpose"; !strings.HasPrefix(r.lastLine(), want) {
		t.Errorf("last line %q, want prefix %q", r.lastLine(), want)
	}
	if !strings.Contains(r.stderr, "crashy: this rollback always fails") || !strings.Contains(r.stderr, "new private area, which is discarded") {
		t.Errorf("the failed rollback is not reported as discarded with the new area:\n%s", r.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	if got := h.status(); got != "stopped" {
		t.Errorf("status %q, want stopped", got)
	}
	h.assertClean()
}

// stuckPipeline fills the temporary area with a stage whose rollback
// always fails, and no provision stage discards it: the rollback cannot
// finish until the operator skips that stage.
const stuckPipeline = `pipeline "stuck" {
  stage "reinstall-hook" "activate" {
    plugin = "crashy"
    mode   = "bad-rollback-tmp"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "backup-retention" "retention" {}
}
`

// When what a failed rollback left is not discarded with the new area, the
// run (and every recover) exits 3 naming the command that gets the
// operator out: recover --skip-rollback STAGE, which is journaled and
// logged, and leaves what the stage did in place.
func TestSkipRollbackGetsTheOperatorOut(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
	pipeline := h.writePipelineFile("stuck.hcl", stuckPipeline)
	before := h.tree("")
	env := []string{"REINSTALL_PLUGIN_DIR=" + dir}
	const wayOut = "`reinstall recover --skip-rollback activate 101`"

	r := h.cliEnv(env, "--pipeline", pipeline, "101")
	if r.code != 3 || !strings.Contains(r.lastLine(), "crashy: this rollback always fails") || !strings.Contains(r.lastLine(), wayOut) {
		t.Fatalf("exit %d, want 3 with a last line naming %s\n%s", r.code, wayOut, r.stderr)
	}
	if st := h.cli("status", "101"); !strings.Contains(st.stdout, "activate: rollback failed: crashy: this rollback always fails") {
		t.Errorf("status does not show the failed rollback:\n%s%s", st.stdout, st.stderr)
	}
	for range 2 {
		rec := h.cliEnv(env, "recover", "101")
		if rec.code != 3 || !strings.Contains(rec.lastLine(), wayOut) {
			t.Fatalf("recover: exit %d, want 3 naming %s\n%s", rec.code, wayOut, rec.stderr)
		}
	}
	if rec := h.cliEnv(env, "recover", "--skip-rollback", "nosuch", "101"); rec.code != 2 || !strings.Contains(rec.lastLine(), "no such stage (stages: activate, swap, start, retention)") {
		t.Errorf("--skip-rollback of an unknown stage: exit %d, want 2\n%s", rec.code, rec.stderr)
	}
	rec := h.cliEnv(env, "recover", "--skip-rollback", "activate", "101")
	if rec.code != 0 || !strings.Contains(rec.stdout, "rolled back") {
		t.Fatalf("recover --skip-rollback activate: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	if !strings.Contains(rec.stderr, "rollback skipped as --skip-rollback says") || !strings.Contains(rec.stderr, "stage=activate") {
		t.Errorf("the skipped rollback is not logged:\n%s", rec.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	left := h.private("") + ".reinstall"
	if got := readFile(t, filepath.Join(left, "crashy")); got != "left by crashy\n" {
		t.Errorf("what the skipped stage did: %q, want it left in place", got)
	}
	if err := os.RemoveAll(left); err != nil {
		t.Fatal(err)
	}
	h.assertClean()
}
