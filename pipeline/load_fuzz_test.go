package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzLoad: a pipeline file is site configuration, but it is parsed before
// anything else and by `reinstall validate` and `fmt` on whatever is given:
// no input may panic the loader. A file that loads has stages with valid
// names, diagnostics point into the file, and formatting it keeps its
// meaning (the same stages, or the same refusal). `make fuzz` runs it for a
// bounded time; the corpus found so far is in testdata/fuzz.
func FuzzLoad(f *testing.F) {
	f.Add(DefaultSource)
	for _, glob := range []string{"../examples/pipelines/*.hcl", "testdata/*/*.hcl"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte(`pipeline "p" { stage "provision" "a" { when = stage.a.x == "y" } }`))
	f.Add([]byte("variable \"v\" {\n  type = list(string)\n  default = [\"a\"]\n}\nlocals { x = var.v[0] }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := Load("fuzz.hcl", src)
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename != "fuzz.hcl" {
				t.Fatalf("diagnostic %q points into %q", d.Summary, d.Subject.Filename)
			}
		}
		if diags.HasErrors() {
			return
		}
		if p == nil {
			t.Fatal("Load returned no pipeline and no error")
		}
		for _, s := range p.Stages {
			if !validStageName(s.Name) || p.Stage(s.Name) != s {
				t.Fatalf("stage %q (kind %q) loaded with an invalid or duplicate name", s.Name, s.Kind)
			}
		}
		p.AssignVariables(VarInputs{Lenient: true})
		formatted, fdiags := Format("fuzz.hcl", src)
		if fdiags.HasErrors() {
			t.Fatalf("a file that loads does not format: %v", fdiags)
		}
		again, adiags := Load("fuzz.hcl", formatted)
		if adiags.HasErrors() {
			t.Fatalf("the formatted file does not load: %v\n--- in\n%s\n--- formatted\n%s", adiags, src, formatted)
		}
		if !slices.EqualFunc(p.Stages, again.Stages, sameStage) {
			t.Fatalf("formatting changed the stages\n--- in\n%s\n--- formatted\n%s", src, formatted)
		}
	})
}

func sameStage(a, b *Stage) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Plugin == b.Plugin
}
