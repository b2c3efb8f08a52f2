package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/redact"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestSensitivityPropagates: a value computed from a sensitive variable —
// through a function, a template, a list or a map — makes its attribute
// sensitive: "(sensitive)" in plan, null in what the journal records and
// hidden from the plugin's Validate, and its text is collected for
// redaction. A value from an ordinary variable stays as it is.
func TestSensitivityPropagates(t *testing.T) {
	const secret = "Hunter2-Token"
	tests := []struct {
		name, stage, wantAttr, wantText string
	}{
		{"function", `stage "configure" "s" {
    plugin = "script"
    script = lower(var.token)
  }`, "script", strings.ToLower(secret)},
		{"template", `stage "configure" "s" {
    plugin = "script"
    script = "/etc/${var.token}.sh"
  }`, "script", "/etc/" + secret + ".sh"},
		{"list", `stage "configure" "s" {
    plugin = "copy-from-old"
    paths  = ["/home", var.token]
  }`, "paths", secret},
		{"map", `stage "configure" "s" {
    plugin = "copy-from-old"
    paths  = values(local.by_name)
  }`, "paths", "/srv/" + secret},
		{"through a local", `stage "configure" "s" {
    plugin = "script"
    script = local.path
  }`, "script", "/opt/" + secret},
		{"ordinary variable", `stage "configure" "s" {
    plugin = "script"
    script = var.plain
  }`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `variable "token" {
  type      = string
  sensitive = true
}
variable "plain" {
  type    = string
  default = "/etc/plain.sh"
}
locals {
  by_name = { a = "/srv/${var.token}" }
  path    = "/opt/${var.token}"
}
pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  ` + tt.stage + `
}
`
			p, diags := pipeline.Load("s.hcl", []byte(src))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := p.AssignVariables(pipeline.VarInputs{Vars: map[string]string{"token": secret}}); d.HasErrors() {
				t.Fatal(d)
			}
			secrets := &redact.Secrets{}
			checked, diags, err := checkStages(context.Background(), p, launchInProcess, &pipeline.EvalScope{Pipeline: p, NoContainer: true, Pending: allStages(p), Secrets: secrets})
			if err != nil || diags.HasErrors() {
				t.Fatalf("check: %v %s", err, describeDiags(diags))
			}
			cs := checked[3]
			var want []string
			if tt.wantAttr != "" {
				want = []string{tt.wantAttr}
			}
			if d := cmp.Diff(want, cs.derived); d != "" {
				t.Errorf("sensitive attributes (-want +got):\n%s", d)
			}
			ps := planStage(p, 3, cs, sdk.RunContext{}, false)
			journaled := string(pipeline.WithoutSensitive(cs.config, pipeline.Union(cs.run.sensitive, cs.derived)))
			shown, _ := json.Marshal(ps)
			if tt.wantAttr == "" {
				if !strings.Contains(journaled, "/etc/plain.sh") {
					t.Errorf("an ordinary value is not journaled: %s", journaled)
				}
				return
			}
			if ps.Config[tt.wantAttr] != "(sensitive)" {
				t.Errorf("plan shows %s = %q, want (sensitive)", tt.wantAttr, ps.Config[tt.wantAttr])
			}
			for what, text := range map[string]string{"plan": string(shown), "journal": journaled} {
				if strings.Contains(text, secret) || strings.Contains(text, strings.ToLower(secret)) {
					t.Errorf("%s holds the secret: %s", what, text)
				}
			}
			if got := secrets.String("x " + tt.wantText + " y"); got != "x (sensitive) y" {
				t.Errorf("the derived value %q is not redacted: %q", tt.wantText, got)
			}
		})
	}
}

// TestSensitiveValueHiddenInDiagnostics: an error that quotes a sensitive
// value (a function's message) shows "(sensitive)" in its place.
func TestSensitiveValueHiddenInDiagnostics(t *testing.T) {
	src := `variable "token" {
  type      = string
  sensitive = true
}
pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "s" {
    plugin = "script"
    script = "/x/${parseint(var.token, 10)}"
  }
}
`
	p, diags := pipeline.Load("s.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p.AssignVariables(pipeline.VarInputs{Vars: map[string]string{"token": "Hunter2-Token"}})
	_, diags, err := checkStages(context.Background(), p, launchInProcess, &pipeline.EvalScope{Pipeline: p, NoContainer: true, Pending: allStages(p)})
	if err != nil {
		t.Fatal(err)
	}
	if !diags.HasErrors() {
		t.Fatal("parseint of a word did not fail")
	}
	text := describeDiags(diags)
	if strings.Contains(text, "Hunter2") || !strings.Contains(text, "(sensitive)") {
		t.Errorf("diagnostics do not hide the value:\n%s", text)
	}
}
