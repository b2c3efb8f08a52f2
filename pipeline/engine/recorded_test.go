package engine

import (
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// TestRecordedVariablesRoundTrip: what the journal records of a run's
// variables gives a recovery the same values, sensitive ones unknown.
func TestRecordedVariablesRoundTrip(t *testing.T) {
	p := loadVariables(t)
	if diags := p.AssignVariables(pipeline.VarInputs{Vars: map[string]string{"retries": "4", "token": "secret"}}); diags.HasErrors() {
		t.Fatal(diags)
	}
	rec := p.RecordedVariables()
	if _, ok := rec["token"]; ok {
		t.Error("a sensitive variable is recorded in the journal")
	}
	// The recorded source is decoded; the file it came from is gone.
	file := filepath.Join(t.TempDir(), "p.hcl")
	back, err := loadRecordedPipeline(Options{}, &journal.Header{Format: journal.Format, Pipeline: file, PipelineSource: []byte(variablesPipeline), Vars: rec})
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

const variablesPipeline = `
variable "dir" {
  type    = string
  default = "/etc/vz/site"
}

variable "retries" {
  type    = number
  default = 1
}

variable "paths" {
  type    = list(string)
  default = ["/home"]
}

variable "token" {
  type      = string
  sensitive = true
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
`

func loadVariables(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	p, diags := pipeline.Load("x.hcl", []byte(variablesPipeline))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func value(t *testing.T, p *pipeline.Pipeline, name string) cty.Value {
	t.Helper()
	v, ok := p.VariableValue(name)
	if !ok {
		t.Fatalf("no value for %s", name)
	}
	return v
}
