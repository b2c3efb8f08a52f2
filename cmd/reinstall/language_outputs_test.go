package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"
)

// TestStockConfigureRunsWhenHookSkipped: the default pipeline with its
// vps-reinstall stage skipped still validates and runs: the stock
// vps-configure stage reads the skipped stage's (null) mode through try()
// and is skipped, instead of failing after the swap.
func TestStockConfigureRunsWhenHookSkipped(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	src := string(pipeline.DefaultSource)
	hook := "    script = \"/etc/vz/conf/vps.reinstall\"\n"
	if !strings.Contains(src, hook) {
		t.Fatal("the default pipeline has no vps-reinstall script line")
	}
	src = strings.Replace(src, hook, hook+"    when   = var.run_hook\n", 1)
	src = "variable \"run_hook\" {\n  type    = bool\n  default = false\n}\n\n" + src
	file := filepath.Join(t.TempDir(), "no-hook.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	h.writeScript("vps.reinstall", "exit 0\n", 0o755)
	h.writeScript("vps.configure", "touch /configure-ran\n", 0o644)
	h.mustCLI("validate", file)
	r := h.mustCLI("--pipeline", file, "101")
	for _, want := range []string{`reinstall-hook "vps-reinstall" skipped`, `configure "vps-configure" skipped`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the run does not say %q:\n%s", want, r.stderr)
		}
	}
	if exists(h.private("configure-ran")) {
		t.Error("vps.configure ran although vps-reinstall was skipped")
	}
	if !exists(h.private("etc/motd")) {
		t.Error("no template in the new area")
	}
	if got := h.status(); got != "running" {
		t.Errorf("status %q, want running", got)
	}
	h.assertClean()
}
