package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/pipeline"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// A stage prints its lines up to its budget; past it, one line counts what
// was dropped and its last lines follow, once its Run or Rollback ended.
// Each stage run has a budget of its own.
func TestStageOutputIsCapped(t *testing.T) {
	var c outputCaps
	line := func(i int) Event {
		return Event{Type: EventStageLog, Stage: "hook", Kind: pipeline.KindConfigure, Plugin: "script", Level: "info", Message: fmt.Sprintf("line %06d %s", i, strings.Repeat("x", 1000))}
	}
	cost := len(line(0).Message) + lineOverhead + len("hook") + len("script") + len(pipeline.KindConfigure)
	fit := MaxStageOutput / cost
	total := fit + 1000
	shown := 0
	for i := range total {
		if c.admit(line(i)) {
			shown++
		}
	}
	if shown != fit {
		t.Errorf("%d lines shown, want %d (%d bytes each counted against %d)", shown, fit, cost, MaxStageOutput)
	}
	if shown*cost > MaxStageOutput {
		t.Errorf("%d bytes counted, more than %d", shown*cost, MaxStageOutput)
	}
	if !c.admit(Event{Stage: "other", Message: "another stage's line"}) {
		t.Error("another stage's line is dropped")
	}
	got := c.end("hook")
	if len(got) != 1+stageOutputTail {
		t.Fatalf("end gave %d lines, want the count and %d", len(got), stageOutputTail)
	}
	dropped := 1000 - stageOutputTail
	want := fmt.Sprintf("%d more lines (%s) of output not shown: a stage prints at most 16.0 MiB to the terminal and the log; its last %d lines:",
		dropped, sizeOf(int64(dropped*(len(line(0).Message)+1))), stageOutputTail)
	if d := cmp.Diff(Event{Type: EventStageLog, Stage: "hook", Kind: pipeline.KindConfigure, Plugin: "script", Level: "warn", Message: want}, got[0]); d != "" {
		t.Errorf("the count line (-want +got):\n%s", d)
	}
	if d := cmp.Diff(line(total-1), got[len(got)-1]); d != "" {
		t.Errorf("the last line (-want +got):\n%s", d)
	}
	if !c.admit(line(0)) {
		t.Error("the stage's next run (its rollback) has no budget of its own")
	}
	if got := c.end("other"); got != nil {
		t.Errorf("a stage under its budget ends with %v", got)
	}
}

// Every stage has a timeout by default, the scripts too: its plugin's
// default for the kind (from its info), else DefaultStageTimeout; the
// stage's timeout attribute sets another.
func TestStageTimeoutDefaults(t *testing.T) {
	scriptInfo := pluginhost.Info{Kinds: []string{pipeline.KindReinstallHook, pipeline.KindConfigure}}
	swapInfo := pluginhost.Info{Kinds: []string{pipeline.KindSwap}, DefaultTimeouts: map[string]time.Duration{pipeline.KindSwap: 10 * time.Minute}}
	unbounded := pluginhost.Info{Kinds: []string{pipeline.KindConfigure}, DefaultTimeouts: map[string]time.Duration{pipeline.KindConfigure: sdk.NoTimeout}}
	for _, tt := range []struct {
		stage pipeline.Stage
		info  pluginhost.Info
		want  time.Duration
	}{
		{pipeline.Stage{Name: "vps-reinstall", Kind: pipeline.KindReinstallHook, Plugin: "script"}, scriptInfo, DefaultStageTimeout},
		{pipeline.Stage{Name: "vps-configure", Kind: pipeline.KindConfigure, Plugin: "script"}, scriptInfo, DefaultStageTimeout},
		{pipeline.Stage{Name: "vps-configure", Kind: pipeline.KindConfigure, Plugin: "script", Timeout: 5 * time.Hour}, scriptInfo, 5 * time.Hour},
		{pipeline.Stage{Name: "swap", Kind: pipeline.KindSwap, Plugin: "swap"}, swapInfo, 10 * time.Minute},
		{pipeline.Stage{Name: "license", Kind: pipeline.KindConfigure, Plugin: "acme"}, unbounded, 0},
	} {
		sr := &stageRun{stage: &tt.stage}
		sr.adopt(tt.info)
		if got := sr.timeout(); got != tt.want {
			t.Errorf("%s (plugin %s, timeout %v): %v, want %v", tt.stage.Name, tt.stage.Plugin, tt.stage.Timeout, got, tt.want)
		}
	}
}
