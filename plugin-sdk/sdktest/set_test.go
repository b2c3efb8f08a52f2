package sdktest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// sayStage answers with its own word, so a test can tell components apart.
type sayStage struct{ word string }

func (sayStage) Schema() sdk.Schema                                   { return sdk.Schema{} }
func (sayStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }
func (s sayStage) Run(context.Context, *sdk.RunRequest) (*sdk.Result, error) {
	return &sdk.Result{Outputs: map[string]string{"said": s.word}}, nil
}

// One connection serves every component of a set; each call reaches the
// component it names, and GetInfo lists them.
func TestPluginSetServesEachComponent(t *testing.T) {
	c := ServeSet(t, map[string]*sdk.Plugin{
		"license": {Name: "license", Version: "1", Stages: map[string]sdk.Stage{sdk.KindConfigure: sayStage{"license"}}},
		"backup":  {Name: "backup", Version: "2", Stages: map[string]sdk.Stage{sdk.KindConfigure: sayStage{"backup"}, sdk.KindBackupRetention: sayStage{"backup later"}}},
	})
	if d := cmp.Diff([]string{"backup", "license"}, c.Info().Components); d != "" {
		t.Errorf("set's components (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		component, kind, said, version string
	}{
		{"license", sdk.KindConfigure, "license", "1"},
		{"backup", sdk.KindConfigure, "backup", "2"},
		{"backup", sdk.KindBackupRetention, "backup later", "2"},
	} {
		comp := c.Component(tc.component)
		if info := comp.Info(); info.Name != tc.component || info.Version != tc.version {
			t.Errorf("GetInfo of %s = %s %s, want %s %s", tc.component, info.Name, info.Version, tc.component, tc.version)
		}
		out := comp.Run(tc.kind, nil, sdk.RunContext{StageName: tc.component})
		if out.Failure != "" || out.Result.Outputs["said"] != tc.said {
			t.Errorf("%s %s: result %+v, failure %q; want said=%q", tc.component, tc.kind, out.Result, out.Failure, tc.said)
		}
	}
	if _, err := c.Component("nope").Stage().Schema(t.Context(), sdk.KindConfigure); err == nil || !strings.Contains(err.Error(), `no component "nope"`) {
		t.Errorf("unknown component: err = %v", err)
	}
	if _, err := c.Stage().Schema(t.Context(), sdk.KindConfigure); err == nil {
		t.Error("a call naming no component of a set succeeded")
	}
	single := Serve(t, &sdk.Plugin{Name: "one", Stages: map[string]sdk.Stage{sdk.KindConfigure: sayStage{"one"}}})
	if out := single.Run(sdk.KindConfigure, nil, sdk.RunContext{StageName: "one"}); out.Failure != "" || out.Result.Outputs["said"] != "one" {
		t.Errorf("single plugin: %+v %q", out.Result, out.Failure)
	}
	if _, err := single.Component("x").Stage().Schema(t.Context(), sdk.KindConfigure); err == nil {
		t.Error("a component call to a single plugin succeeded")
	}
}
