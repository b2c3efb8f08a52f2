package pipeline

import (
	"fmt"
	"slices"

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
	diags = append(diags, checkHookFirst(p, swapAt)...)
	for i, s := range p.Stages {
		if s.OnFailure == OnFailureContinue && (swapAt < 0 || i <= swapAt) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "on_failure = \"continue\" before the swap",
				Detail:   fmt.Sprintf("Stage %q fills or swaps the temporary area: if it fails there is nothing sound to continue with. on_failure = \"continue\" is for stages after the swap (a configure stage that may fail softly).", s.Name),
				Subject:  s.OnFailureRange.Ptr(),
			})
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

// checkHookFirst warns about a reinstall-hook stage that runs before any
// provision stage (libvzctl's order) with none after it before the swap:
// in default mode its temporary area stays empty.
func checkHookFirst(p *Pipeline, swapAt int) hcl.Diagnostics {
	if swapAt < 0 {
		swapAt = len(p.Stages)
	}
	var diags hcl.Diagnostics
	provisioned := false
	for i, s := range p.Stages[:swapAt] {
		switch {
		case s.Kind == KindProvision:
			provisioned = true
		case s.Kind == KindReinstallHook && !provisioned:
			if slices.ContainsFunc(p.Stages[i+1:swapAt], func(x *Stage) bool { return x.Kind == KindProvision }) {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Nothing provisions after the hook",
				Detail: fmt.Sprintf("Stage %q runs before any provision stage, into an empty temporary area. When it answers \"default\" (no script, or exit 128) the area stays empty and the swap would install an empty private area. Add stage \"provision\" \"template\" { when = stage.%s.mode == \"default\" } after it, as examples/pipelines/libvzctl-compatible.hcl does.",
					s.Name, s.Name),
				Subject: s.KindRange.Ptr(),
			})
		}
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
