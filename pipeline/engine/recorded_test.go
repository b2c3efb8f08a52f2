package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// TestRecordedVariablesRoundTrip: what the journal records of a run's
// variables gives a recovery the same values, sensitive ones unknown.
func TestRecordedVariablesRoundTrip(t *testing.T) {
	p, src := loadVariables(t)
	if diags := p.AssignVariables(pipeline.VarInputs{Vars: map[string]string{"retries": "4", "token": "secret"}}); diags.HasErrors() {
		t.Fatal(diags)
	}
	rec := p.RecordedVariables()
	if _, ok := rec["token"]; ok {
		t.Error("a sensitive variable is recorded in the journal")
	}
	// The recorded source is decoded; the file it came from is gone.
	file := filepath.Join(t.TempDir(), "p.hcl")
	back, err := loadRecordedPipeline(Options{}, &journal.Header{Format: journal.Format, Pipeline: file, PipelineSource: src, Vars: rec})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dir", "retries", "paths"} {
		if got, want := value(t, back, name), value(t, p, name); !got.RawEquals(want) {
			t.Errorf("%s: recorded %#v, read back %#v", name, want, got)
		}
	}
	if got := value(t, back, "token"); got.IsKnown() {
		t.Errorf("token read back as %#v; want not known", got)
	}
}

// variablesFile is the language tests' pipeline of variables.
const variablesFile = "../testdata/variables.hcl"

func loadVariables(t *testing.T) (*pipeline.Pipeline, []byte) {
	t.Helper()
	src, err := os.ReadFile(variablesFile)
	if err != nil {
		t.Fatal(err)
	}
	p, diags := pipeline.Load("x.hcl", src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p, src
}

func value(t *testing.T, p *pipeline.Pipeline, name string) cty.Value {
	t.Helper()
	v, ok := p.VariableValue(name)
	if !ok {
		t.Fatalf("no value for %s", name)
	}
	return v
}
