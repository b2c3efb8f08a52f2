package pipeline

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// FirstError is the first error of diags in one line, "file:line:col:
// summary; detail" when it has a source range.
func FirstError(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if d.Subject != nil {
				return fmt.Sprintf("%s:%d:%d: %s; %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary, d.Detail)
			}
			return fmt.Sprintf("%s; %s", d.Summary, d.Detail)
		}
	}
	return "invalid pipeline"
}
