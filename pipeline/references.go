package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Namespaces expressions in a pipeline can read.
var namespaces = []string{"ct", "opts", "stage", "var", "local"}

// checkStaticReferences checks what Load can see without plugins: the
// references in every when expression and local value.
func (p *Pipeline) checkStaticReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, l := range p.Locals {
		diags = append(diags, p.CheckReferences(l.Expr.Variables(), -1)...)
	}
	for i, s := range p.Stages {
		if s.When != nil {
			diags = append(diags, p.CheckReferences(s.When.Variables(), i)...)
		}
	}
	return append(diags, p.checkGuardedReads()...)
}

// CheckReferences checks traversals read by a local value (stage < 0) or
// by the stage at index stage: declared variables, locals and stages, and,
// in a stage, only stages before it (directly or through locals), whose
// outputs are known by the time it runs.
func (p *Pipeline) CheckReferences(traversals []hcl.Traversal, stage int) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range traversals {
		root := t.RootName()
		if !slices.Contains(namespaces, root) {
			continue // evaluation reports it, with a suggestion
		}
		name, nameRange, ok := traversalName(t)
		if !ok {
			if root == "ct" || root == "opts" {
				continue // ct and opts may be read whole
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference",
				Detail:   fmt.Sprintf("%s must be followed by a name: %s.<name>.", root, root),
				Subject:  t.SourceRange().Ptr(),
			})
			continue
		}
		switch root {
		case "ct", "opts":
			ty := ctType
			if root == "opts" {
				ty = optsType
			}
			if !ty.HasAttribute(name) {
				var attrs []string
				for a := range ty.AttributeTypes() {
					attrs = append(attrs, a)
				}
				slices.Sort(attrs)
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Unsupported attribute",
					Detail:   fmt.Sprintf("%s has no attribute %q%s. It has: %s.", root, name, DidYouMean(name, attrs), strings.Join(attrs, ", ")),
					Subject:  &nameRange,
				})
			}
		case "var":
			if p.Variable(name) == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared input variable",
					Detail:   fmt.Sprintf("No variable %q is declared%s; declare it with a variable %q { type = ... } block.", name, DidYouMean(name, p.variableNames()), name),
					Subject:  &nameRange,
				})
			}
		case "local":
			l := p.Local(name)
			if l == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared local value",
					Detail:   fmt.Sprintf("No local value %q is defined%s; define it in a locals { } block.", name, DidYouMean(name, p.localNames())),
					Subject:  &nameRange,
				})
				continue
			}
			if stage < 0 {
				continue
			}
			for _, via := range p.localStageReads(l, map[string]bool{}) {
				if d := p.checkStageOrder(via.name, stage, nameRange, "local."+name+" reads stage."+via.name+"; "); d != nil {
					diags = append(diags, d)
				}
			}
		case "stage":
			if p.Stage(name) == nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared stage",
					Detail:   fmt.Sprintf("No stage is named %q%s. Stages: %v.", name, DidYouMean(name, p.stageNames()), p.stageNames()),
					Subject:  &nameRange,
				})
				continue
			}
			if stage >= 0 {
				if d := p.checkStageOrder(name, stage, nameRange, ""); d != nil {
					diags = append(diags, d)
				}
			}
		}
	}
	return diags
}

// checkStageOrder refuses a stage reading the outputs of itself or of a
// stage after it.
func (p *Pipeline) checkStageOrder(read string, reader int, rng hcl.Range, via string) *hcl.Diagnostic {
	at := slices.IndexFunc(p.Stages, func(s *Stage) bool { return s.Name == read })
	if at < reader {
		return nil
	}
	what := "runs after"
	if at == reader {
		what = "is"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to a later stage",
		Detail: fmt.Sprintf("%sstage %q %s %q, so its outputs are not known when %q runs; a stage reads only the outputs of stages before it.",
			via, read, what, p.Stages[reader].Name, p.Stages[reader].Name),
		Subject: &rng,
	}
}

// stageRead is a stage whose outputs an expression reads.
type stageRead struct{ name string }

// localStageReads lists the stages a local reads, directly or through
// other locals.
func (p *Pipeline) localStageReads(l *Local, seen map[string]bool) []stageRead {
	if seen[l.Name] {
		return nil
	}
	seen[l.Name] = true
	var out []stageRead
	for _, t := range l.Expr.Variables() {
		name, _, ok := traversalName(t)
		if !ok {
			continue
		}
		switch t.RootName() {
		case "stage":
			out = append(out, stageRead{name})
		case "local":
			if dep := p.Local(name); dep != nil {
				out = append(out, p.localStageReads(dep, seen)...)
			}
		}
	}
	return out
}

// StageDependencies lists the stages whose outputs an expression reads,
// directly or through locals, in pipeline order.
func (p *Pipeline) StageDependencies(expr hcl.Expression) []string {
	if expr == nil {
		return nil
	}
	reads := map[string]bool{}
	seen := map[string]bool{}
	for _, t := range expr.Variables() {
		name, _, ok := traversalName(t)
		if !ok {
			continue
		}
		switch t.RootName() {
		case "stage":
			reads[name] = true
		case "local":
			if l := p.Local(name); l != nil {
				for _, r := range p.localStageReads(l, seen) {
					reads[r.name] = true
				}
			}
		}
	}
	var out []string
	for _, s := range p.Stages {
		if reads[s.Name] {
			out = append(out, s.Name)
		}
	}
	return out
}

// traversalName is the name after a namespace, "x" in var.x or stage.x["k"],
// and the range of the two (what a message about the reference points at).
func traversalName(t hcl.Traversal) (string, hcl.Range, bool) {
	if len(t) < 2 {
		return "", hcl.Range{}, false
	}
	rng := hcl.RangeBetween(t[0].SourceRange(), t[1].SourceRange())
	switch step := t[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, rng, true
	case hcl.TraverseIndex:
		if step.Key.Type().FriendlyName() == "string" && step.Key.IsKnown() && !step.Key.IsNull() {
			return step.Key.AsString(), rng, true
		}
	}
	return "", hcl.Range{}, false
}

func (p *Pipeline) localNames() []string {
	names := make([]string, len(p.Locals))
	for i, l := range p.Locals {
		names[i] = l.Name
	}
	return names
}

func (p *Pipeline) stageNames() []string {
	names := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		names[i] = s.Name
	}
	return names
}
