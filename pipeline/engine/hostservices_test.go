package engine

import (
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// A plugin's log line reaches the events at one of the levels
// docs/events.schema.json allows, whatever level the plugin sent.
func TestStageLogLevelIsNormalized(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sent, want string }{
		{"trace", "trace"},
		{"debug", "debug"},
		{"info", "info"},
		{"warn", "warn"},
		{"error", "error"},
		{"WARN", "warn"},
		{" Error ", "error"},
		{"warning", "warn"},
		{"", "info"},
		{"off", "info"},
		{"fatal", "info"},
		{"notice", "info"},
	} {
		var got []Event
		r := &run{pipeline: &pipeline.Pipeline{}, o: Options{Events: func(ev Event) { got = append(got, ev) }}}
		r.forward("hook", pluginhost.Event{Log: &sdk.LogLine{Level: sdk.Level(tc.sent), Message: "a line"}})
		if len(got) != 1 {
			t.Fatalf("level %q: %d events, want one", tc.sent, len(got))
		}
		if d := cmp.Diff(tc.want, got[0].Level); d != "" {
			t.Errorf("level %q (-want +got):\n%s", tc.sent, d)
		}
	}
}
