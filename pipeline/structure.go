package pipeline

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// checkStructure enforces the order rules that make a pipeline a reinstall:
// something fills the temporary area, then exactly one swap, then start, then
// configure stages, and backup-retention stages last.
func checkStructure(p *Pipeline) hcl.Diagnostics {
	var diags hcl.Diagnostics
	swapAt, startAt := -1, -1
	filled := false
	for i, s := range p.Stages {
		switch s.Kind {
		case KindProvision, KindReinstallHook:
			if swapAt >= 0 {
				diags = append(diags, orderDiag(s, fmt.Sprintf("A %s stage fills the temporary private area, so it must come before the swap stage %q.", s.Kind, p.Stages[swapAt].Name)))
			}
			filled = true
		case KindSwap:
			if swapAt >= 0 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "More than one swap stage",
					Detail:   fmt.Sprintf("A pipeline has exactly one swap stage; %q is already declared at %s.", p.Stages[swapAt].Name, p.Stages[swapAt].DefRange),
					Subject:  s.KindRange.Ptr(),
				})
				continue
			}
			if !filled {
				diags = append(diags, orderDiag(s, "Nothing fills the temporary private area before the swap: add a provision or reinstall-hook stage before it."))
			}
			swapAt = i
		case KindStart:
			if swapAt < 0 {
				diags = append(diags, orderDiag(s, "A start stage starts the new private area, so it must come after the swap stage."))
			}
			if startAt < 0 {
				startAt = i
			}
		case KindConfigure:
			if startAt < 0 {
				diags = append(diags, orderDiag(s, "A configure stage runs inside the new container, so it must come after a start stage."))
			}
		case KindBackupRetention:
			for _, later := range p.Stages[i+1:] {
				if later.Kind != KindBackupRetention {
					diags = append(diags, orderDiag(later, fmt.Sprintf("backup-retention stages come last; this %s stage follows %q.", later.Kind, s.Name)))
					break
				}
			}
		}
	}
	if swapAt < 0 && len(p.Stages) > 0 {
		rng := p.Stages[len(p.Stages)-1].DefRange
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No swap stage",
			Detail:   "A reinstall pipeline needs exactly one swap stage (stage \"swap\" \"swap\" {}).",
			Subject:  &rng,
		})
	}
	return diags
}

func orderDiag(s *Stage, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Stage out of order",
		Detail:   detail,
		Subject:  s.KindRange.Ptr(),
	}
}
