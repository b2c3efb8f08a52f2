package pipeline

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestSchemaDefaultsEnumsWholeNumbers decodes stage bodies with a schema
// that has a default, an enum and a whole number (as a plugin's struct tags
// declare them): a left-out attribute takes its default; a value outside
// the enum or a fraction is an error at the attribute's value, with a
// suggestion; a value known only during the run is not judged.
func TestSchemaDefaultsEnumsWholeNumbers(t *testing.T) {
	type cfg struct {
		Cache   string `hcl:"cache,optional" enum:"auto,always,off" default:"auto"`
		Retries int    `hcl:"retries,optional" default:"3"`
	}
	schema, err := sdk.SchemaFromStruct(cfg{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := StageSpec("acme", schema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		body        string
		wantCache   string
		wantRetries int64
		wantErr     string // in the detail; the subject is on line 1
	}{
		{body: ``, wantCache: "auto", wantRetries: 3},
		{body: `cache = "off"` + "\n" + `retries = 5`, wantCache: "off", wantRetries: 5},
		{body: `cache = "alwyas"`, wantErr: `cache is "alwyas"; it must be one of "auto", "always", "off" (did you mean "always"?)`},
		{body: `retries = 1.5`, wantErr: "retries is 1.5; it must be a whole number."},
		{body: `cache = var.unknown`, wantRetries: 3},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			f, diags := hclsyntax.ParseConfig([]byte(tt.body), "p.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"unknown": cty.UnknownVal(cty.String)})}}
			v, diags := hcldec.Decode(f.Body, spec, ctx)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tt.wantErr) || diags[0].Subject == nil || diags[0].Subject.Start.Line != 1 {
					t.Fatalf("diagnostics %v; want %q at line 1", diags, tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if c := v.GetAttr("cache"); c.IsKnown() && c.AsString() != tt.wantCache {
				t.Errorf("cache = %#v, want %q", c, tt.wantCache)
			}
			if n, _ := v.GetAttr("retries").AsBigFloat().Int64(); n != tt.wantRetries {
				t.Errorf("retries = %d, want %d", n, tt.wantRetries)
			}
		})
	}
}
