package pipeline

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultPipelineMatchesExample(t *testing.T) {
	example, err := os.ReadFile("../examples/pipelines/default.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, DefaultSource) {
		t.Error("examples/pipelines/default.hcl differs from the embedded pipeline/default.hcl; keep them byte-identical")
	}
}

func TestDefaultPipelineLoads(t *testing.T) {
	p, diags := LoadDefault()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got [][3]string
	for _, s := range p.Stages {
		got = append(got, [3]string{s.Kind, s.Name, s.Plugin})
	}
	want := [][3]string{
		{"provision", "template", "provision"},
		{"reinstall-hook", "vps-reinstall", "script"},
		{"swap", "swap", "swap"},
		{"start", "start", "start"},
		{"configure", "vps-configure", "script"},
		{"configure", "credentials", "credentials"},
		{"configure", "reinstall-scripts", "reinstall-scripts"},
		{"configure", "health", "health"},
		{"backup-retention", "retention", "backup-retention"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("default stages (-want +got):\n%s", d)
	}
	if p.Stage("vps-configure").When == nil {
		t.Error("vps-configure has no when")
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // summary and position of the first error
	}{
		{"syntax", "pipeline \"x\" {\n  stage \"swap\" \"s\" {\n", "x.hcl:2:20: Unclosed configuration block"},
		{"unknown kind", "pipeline \"x\" {\n  stage \"provison\" \"p\" {}\n  stage \"swap\" \"s\" {}\n}\n", `x.hcl:2:9: Unknown stage kind; "provison" is not a stage kind (did you mean "provision"?)`},
		{"duplicate name", "pipeline \"x\" {\n  stage \"provision\" \"a\" {}\n  stage \"swap\" \"a\" {}\n}\n", "x.hcl:3:16: Duplicate stage name"},
		{"two swaps", "pipeline \"x\" {\n  stage \"provision\" \"p\" {}\n  stage \"swap\" \"a\" {}\n  stage \"swap\" \"b\" {}\n}\n", "x.hcl:4:9: More than one swap stage"},
		{"swap with nothing before", "pipeline \"x\" {\n  stage \"swap\" \"a\" {}\n}\n", "x.hcl:2:9: Stage out of order; Nothing fills"},
		{"configure before start", "pipeline \"x\" {\n  stage \"provision\" \"p\" {}\n  stage \"swap\" \"s\" {}\n  stage \"configure\" \"c\" {\n    script = \"/x\"\n  }\n  stage \"start\" \"st\" {}\n}\n", "x.hcl:4:9: Stage out of order; A configure stage"},
		{"plugin not constant", "pipeline \"x\" {\n  stage \"provision\" \"p\" {\n    plugin = var.p\n  }\n  stage \"swap\" \"s\" {}\n}\n", "x.hcl:3:14: Invalid plugin"},
		{"bad timeout", "pipeline \"x\" {\n  stage \"provision\" \"p\" {\n    timeout = \"soon\"\n  }\n  stage \"swap\" \"s\" {}\n}\n", "x.hcl:3:15: Invalid timeout"},
		{"no swap", "pipeline \"x\" {\n  stage \"provision\" \"p\" {}\n}\n", "No swap stage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Load("x.hcl", []byte(tc.src))
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if got := FirstError(diags); !strings.Contains(got, tc.want) {
				t.Errorf("first error %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
