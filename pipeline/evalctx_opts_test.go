package pipeline

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestOptsNamespace: the run's flags as the pipeline reads them.
func TestOptsNamespace(t *testing.T) {
	tests := []struct {
		opts sdk.Options
		expr string
		want string
	}{
		{sdk.Options{}, `"${opts.resetpwdb} ${opts.skipscripts} ${length(opts.scripts)}"`, "false false 0"},
		{sdk.Options{ResetPwDB: true, SkipScripts: true}, `"${opts.resetpwdb} ${opts.skipscripts}"`, "true true"},
		{sdk.Options{Scripts: []string{"a.sh", "b.sh"}}, `join(",", opts.scripts)`, "a.sh,b.sh"},
		{sdk.Options{Scripts: []string{"a.sh"}}, `contains(opts.scripts, "a.sh") ? "yes" : "no"`, "yes"},
	}
	for _, tt := range tests {
		expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		scope := &EvalScope{RunContext: sdk.RunContext{Options: tt.opts}}
		v, diags := expr.Value(scope.Context())
		if diags.HasErrors() {
			t.Fatalf("%s: %v", tt.expr, diags)
		}
		if got := v.AsString(); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
