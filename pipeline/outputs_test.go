package pipeline

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// stage.<name> is typed by the plugin's declared outputs: converted once
// the stage ran (an output it did not return, or one that does not convert,
// is null), unknown before, and null when the stage did not run.
func TestStageValueFollowsDeclaredOutputs(t *testing.T) {
	outs := []sdk.Output{{Name: "mode", Type: "string"}, {Name: "ran", Type: "bool"}, {Name: "exit", Type: "number"}}
	var bad []string
	e := &EvalScope{
		Declared: map[string][]sdk.Output{"ran": outs, "pending": outs, "skipped": outs},
		Outputs:  map[string]map[string]string{"ran": {"mode": "custom", "ran": "true", "exit": "zero", "extra": "x"}},
		Pending:  map[string]bool{"pending": true},
		BadOutput: func(stage, name, value string) {
			bad = append(bad, stage+"."+name+"="+value)
		},
	}
	got := e.oneStageValue("ran")
	want := cty.ObjectVal(map[string]cty.Value{"mode": cty.StringVal("custom"), "ran": cty.True, "exit": cty.NullVal(cty.Number)})
	if !got.RawEquals(want) {
		t.Errorf("a stage that ran: %#v, want %#v", got, want)
	}
	if len(bad) != 1 || bad[0] != "ran.exit=zero" {
		t.Errorf("bad outputs reported: %v", bad)
	}
	if v := e.oneStageValue("pending"); v.IsKnown() || !v.Type().Equals(outputsType(outs)) {
		t.Errorf("a pending stage: %#v, want an unknown of its outputs' type", v)
	}
	if v := e.oneStageValue("skipped"); !v.IsNull() || !v.Type().Equals(outputsType(outs)) {
		t.Errorf("a skipped stage: %#v, want null", v)
	}
}

// A plugin declaring an output that is no identifier, twice, or of a type
// outputs cannot have, has a broken schema.
func TestCheckOutputDecls(t *testing.T) {
	for _, tc := range []struct {
		outs []sdk.Output
		ok   bool
	}{
		{[]sdk.Output{{Name: "mode", Type: "string"}, {Name: "n", Type: "number"}, {Name: "b", Type: "bool"}}, true},
		{[]sdk.Output{{Name: "two words", Type: "string"}}, false},
		{[]sdk.Output{{Name: "a", Type: "string"}, {Name: "a", Type: "string"}}, false},
		{[]sdk.Output{{Name: "l", Type: "list(string)"}}, false},
	} {
		if err := CheckOutputDecls("p", tc.outs); (err == nil) != tc.ok {
			t.Errorf("checkOutputDecls(%v) = %v, want ok=%v", tc.outs, err, tc.ok)
		}
	}
}
