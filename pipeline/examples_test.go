package pipeline

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// withoutRE is an example's note that it leaves out a stage of the default
// pipeline on purpose: `# without "<stage>": <why>`.
var withoutRE = regexp.MustCompile(`(?m)^\s*# without "([a-z0-9-]+)": \S`)

// Every example is the default pipeline with something added or changed:
// it holds each default stage (same kind and plugin), or says on a comment
// line why it leaves one out.
func TestExamplesHoldEveryDefaultStage(t *testing.T) {
	def, diags := LoadDefault()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	files, err := filepath.Glob("../examples/pipelines/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example pipelines: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, diags := Load(f, src)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			without := map[string]bool{}
			for _, m := range withoutRE.FindAllStringSubmatch(string(src), -1) {
				without[m[1]] = true
				if def.Stage(m[1]) == nil {
					t.Errorf("%s says it is without %q, which is no stage of the default pipeline", f, m[1])
				}
			}
			for _, want := range def.Stages {
				got := p.Stage(want.Name)
				switch {
				case got == nil && !without[want.Name]:
					t.Errorf("%s has no stage %q of the default pipeline; add it, or a line `# without %q: <why>`", f, want.Name, want.Name)
				case got != nil && without[want.Name]:
					t.Errorf("%s has stage %q and says it is without it", f, want.Name)
				case got != nil && (got.Kind != want.Kind || got.Plugin != want.Plugin):
					t.Errorf("%s: stage %q is %s/%s, the default's is %s/%s", f, want.Name, got.Kind, got.Plugin, want.Kind, want.Plugin)
				}
			}
		})
	}
}
