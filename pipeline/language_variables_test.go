package pipeline

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// variablesFile declares a variable of each kind: a string, a number and a
// list with defaults, and a sensitive one without.
const variablesFile = "testdata/variables.hcl"

func loadVariables(t *testing.T) *Pipeline {
	t.Helper()
	src, err := os.ReadFile(variablesFile)
	if err != nil {
		t.Fatal(err)
	}
	p, diags := Load("x.hcl", src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func value(t *testing.T, p *Pipeline, name string) cty.Value {
	t.Helper()
	v, ok := p.VariableValue(name)
	if !ok {
		t.Fatalf("no value for %s", name)
	}
	return v
}

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	file1 := filepath.Join(dir, "one.vars")
	file2 := filepath.Join(dir, "two.vars")
	os.WriteFile(file1, []byte("dir = \"/from/file1\"\nretries = 2\ntoken = \"t1\"\n"), 0o600)
	os.WriteFile(file2, []byte("retries = 3\npaths = [\"/root\", \"/home\"]\n"), 0o600)
	p := loadVariables(t)
	diags := p.AssignVariables(VarInputs{
		Environ: []string{"REINSTALL_VAR_dir=/from/env", "REINSTALL_VAR_retries=9", "REINSTALL_VAR_other=ignored", "HOME=/"},
		Files:   []string{file1, file2},
		Vars:    map[string]string{"dir": "/from/cli"},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, want := range map[string]cty.Value{
		"dir":     cty.StringVal("/from/cli"),                                               // --var beats files and env
		"retries": cty.NumberIntVal(3),                                                      // the last file beats the first and env
		"paths":   cty.ListVal([]cty.Value{cty.StringVal("/root"), cty.StringVal("/home")}), // typed from the file
		"token":   cty.StringVal("t1"),
	} {
		if got := value(t, p, name); !got.RawEquals(want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	// The environment alone, typed; defaults otherwise.
	p = loadVariables(t)
	if diags := p.AssignVariables(VarInputs{Environ: []string{"REINSTALL_VAR_retries=5", "REINSTALL_VAR_token=x"}}); diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := value(t, p, "retries"); !got.RawEquals(cty.NumberIntVal(5)) {
		t.Errorf("retries from the environment = %#v", got)
	}
	if got := value(t, p, "dir"); !got.RawEquals(cty.StringVal("/etc/vz/site")) {
		t.Errorf("dir default = %#v", got)
	}
}

func TestVariableErrors(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "bad.vars")
	os.WriteFile(varFile, []byte("retries = \"many\"\ndri = \"/x\"\n"), 0o600)
	cases := []struct {
		name string
		in   VarInputs
		want []string // "file:line:col summary"
	}{
		{"required missing", VarInputs{}, []string{"x.hcl:17:1 No value for required variable"}},
		{"required missing, lenient", VarInputs{Lenient: true}, nil},
		{"undeclared --var", VarInputs{Vars: map[string]string{"dri": "/x", "token": "t"}}, []string{"<value for --var dri>:1:1 Value for undeclared variable"}},
		{"wrong type from --var", VarInputs{Vars: map[string]string{"retries": "[1]", "token": "t"}}, []string{"<value for --var retries>:1:1 Invalid value for variable"}},
		{"syntax error in --var", VarInputs{Vars: map[string]string{"paths": "[\"/a\"", "token": "t"}}, []string{"<value for --var paths>:1:1 Unterminated tuple constructor expression"}},
		{"bad var file", VarInputs{Files: []string{varFile}, Vars: map[string]string{"token": "t"}}, []string{
			varFile + ":1:11 Invalid value for variable", varFile + ":2:1 Value for undeclared variable"}},
		{"missing var file", VarInputs{Files: []string{filepath.Join(dir, "none")}, Lenient: true}, []string{filepath.Join(dir, "none") + ":1:1 Cannot read variables file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loadVariables(t)
			diags := p.AssignVariables(tc.in)
			var got []string
			for _, d := range diags {
				got = append(got, diagPlace(d))
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s\n%v", d, diags)
			}
			for _, d := range diags {
				if src := p.Sources[d.Subject.Filename]; src == nil && d.Summary != "Cannot read variables file" {
					t.Errorf("no source kept for %s, so no snippet can be shown", d.Subject.Filename)
				}
			}
		})
	}
}

func diagPlace(d *hcl.Diagnostic) string {
	return strings.Join([]string{d.Subject.Filename, ":", strconv.Itoa(d.Subject.Start.Line), ":", strconv.Itoa(d.Subject.Start.Column), " ", d.Summary}, "")
}

const localsPipeline = `
variable "dir" {
  default = "/etc/vz/site"
}

locals {
  configure = "${local.base}/configure.sh"
  base      = trimsuffix(var.dir, "/")
  major     = regex("^[a-z]+-([0-9]+)", ct.ostemplate)[0]
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {
    when = local.major == "7"
  }
}
`

func TestLocals(t *testing.T) {
	p, diags := Load("x.hcl", []byte(localsPipeline))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var order []string
	for _, l := range p.Locals {
		order = append(order, l.Name)
	}
	if d := cmp.Diff([]string{"base", "configure", "major"}, order); d != "" {
		t.Errorf("evaluation order (-want +got):\n%s", d)
	}
	p.AssignVariables(VarInputs{Vars: map[string]string{"dir": "/srv/"}})
	scope := func(ostemplate string) *EvalScope {
		return &EvalScope{Pipeline: p, RunContext: sdk.RunContext{OSTemplate: ostemplate}, Outputs: map[string]map[string]string{}}
	}
	ctx, diags := scope("centos-7-x86_64").ContextWithLocals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := ctx.Variables["local"].GetAttr("configure"); !got.RawEquals(cty.StringVal("/srv/configure.sh")) {
		t.Errorf("local.configure = %#v", got)
	}
	run, known, diags := EvalWhen(p.Stage("start"), ctx)
	if !run || !known || diags.HasErrors() {
		t.Errorf("when with local.major = 7: run=%v known=%v %v", run, known, diags)
	}
	// A local that fails during the run makes what reads it fail with the
	// local's own error, not run on with an unknown value.
	ctx, _ = scope("busybox").ContextWithLocals()
	_, _, diags = EvalWhen(p.Stage("start"), ctx)
	if !diags.HasErrors() || diags[0].Subject.Start.Line != 9 {
		t.Errorf("when reading a failed local: %v; want the local's error on line 9", diags)
	}
	// Without a container, ct is not known, so neither are local.major and when.
	ctx, diags = (&EvalScope{Pipeline: p, NoContainer: true}).ContextWithLocals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, known, _ := EvalWhen(p.Stage("start"), ctx); known {
		t.Error("when is known without a container")
	}
}

func TestRequiredPlugins(t *testing.T) {
	sum := strings.Repeat("Ab", 32)
	src := `
required_plugins {
  acme-license = { sha256 = "` + sum + `" }
  other_one    = { "sha256" = "` + strings.Repeat("0", 64) + `" }
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
`
	p, diags := Load("x.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"acme-license": strings.ToLower(sum), "other_one": strings.Repeat("0", 64)}
	if d := cmp.Diff(want, p.RequiredPlugins); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if rng := p.RequiredPluginRanges["acme-license"]; rng.Start.Line != 3 {
		t.Errorf("pin range %v", rng)
	}
}
