package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// continuePipeline is the contract's stages with a configure stage that
// fails and is continued past.
const continuePipeline = `pipeline "continued" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "broken" {
    script     = "/etc/vz/conf/broken.sh"
    on_failure = "continue"
  }
  stage "backup-retention" "retention" {}
}
`

// A stage that failed and was continued past is named by the final line,
// by run-finished in --json, and in the log file.
func TestContinuedPastStagesAreReported(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("broken.sh", "echo nothing works\nexit 4\n", 0o644)
	file := h.writePipelineFile("continued.hcl", continuePipeline)

	r := h.mustCLI("--pipeline", file, "101")
	if want := `failed and continued past (on_failure = "continue"): broken`; !strings.Contains(r.lastLine(), want) {
		t.Errorf("final line %q does not say %q", r.lastLine(), want)
	}

	r = h.mustCLI("--json", "--stop", "--pipeline", file, "101")
	events := parseEvents(t, r.stdout)
	end := lastOf(t, events, "run-finished")
	if d := cmp.Diff([]string{"broken"}, end.ContinuedPast); d != "" {
		t.Errorf("run-finished continued_past (-want +got):\n%s", d)
	}
	logText := readFile(t, end.LogFile)
	if !strings.Contains(logText, `continued_past=["broken"]`) {
		t.Errorf("the log file does not name the stage continued past:\n%s", logText)
	}
}

// A run where nothing failed names no stage continued past.
func TestNothingContinuedPastInACleanRun(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("broken.sh", "exit 0\n", 0o644)
	file := h.writePipelineFile("continued.hcl", continuePipeline)
	r := h.mustCLI("--json", "--pipeline", file, "101")
	if end := lastOf(t, parseEvents(t, r.stdout), "run-finished"); end.ContinuedPast != nil {
		t.Errorf("continued_past %v in a run where nothing failed", end.ContinuedPast)
	}
}
