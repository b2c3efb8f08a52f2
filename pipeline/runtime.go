package pipeline

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/reinstall-dev/reinstall/internal/runtime"
)

// decodeRuntime reads the pipeline block's `runtime` attribute: a constant
// "auto", "native", "vzctl" or "prlctl".
func (p *Pipeline) decodeRuntime(attr *hcl.Attribute) hcl.Diagnostics {
	if attr == nil {
		return nil
	}
	v, d := attr.Expr.Value(nil)
	if d.HasErrors() || v.IsNull() || v.Type().FriendlyName() != "string" || !slices.Contains(runtime.PipelineNames, v.AsString()) {
		given := ""
		if !d.HasErrors() && !v.IsNull() && v.Type().FriendlyName() == "string" {
			given = v.AsString()
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid runtime",
			Detail: fmt.Sprintf("runtime must be a constant string: \"auto\" (on the real host: vzctl if on PATH, else prlctl, else native; under --root: native), \"native\", \"vzctl\" or \"prlctl\"%s.",
				DidYouMean(given, runtime.PipelineNames)),
			Subject: attr.Expr.Range().Ptr(),
		}}
	}
	p.Runtime = v.AsString()
	p.RuntimeRange = attr.Expr.Range()
	return nil
}
