package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// A stage's outputs are declared in its plugin's schema (name, type,
// description); stage.<name>.<output> reads one. A reference to an output
// the plugin does not declare is refused before the run, and so is an
// unguarded read of a stage that may not run: a stage skipped by its when,
// or failed and continued past, has null outputs.

// outputTypes are the types an output may declare.
var outputTypes = map[string]cty.Type{"string": cty.String, "number": cty.Number, "bool": cty.Bool}

// checkOutputDecls checks the outputs a plugin's schema declares.
func CheckOutputDecls(plugin string, outs []sdk.Output) error {
	seen := map[string]bool{}
	for _, o := range outs {
		if !hclsyntax.ValidIdentifier(o.Name) {
			return fmt.Errorf("plugin %s declares an output named %q, which is not an identifier", plugin, o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("plugin %s declares output %q twice", plugin, o.Name)
		}
		seen[o.Name] = true
		if _, ok := outputTypes[o.Type]; !ok {
			return fmt.Errorf("plugin %s: output %q has type %q; outputs are string, number or bool", plugin, o.Name, o.Type)
		}
	}
	return nil
}

// outputsType is the object type of a stage's declared outputs.
func outputsType(outs []sdk.Output) cty.Type {
	attrs := map[string]cty.Type{}
	for _, o := range outs {
		attrs[o.Name] = outputTypes[o.Type]
	}
	return cty.Object(attrs)
}

// outputsValue is the object a stage that ran returns: each declared
// output converted to its type; one the stage did not return, or that does
// not convert (a plugin bug, reported through bad), is null.
func outputsValue(outs []sdk.Output, got map[string]string, bad func(name, value string)) cty.Value {
	attrs := map[string]cty.Value{}
	for _, o := range outs {
		ty := outputTypes[o.Type]
		raw, ok := got[o.Name]
		if !ok || raw == "" && ty != cty.String {
			attrs[o.Name] = cty.NullVal(ty)
			continue
		}
		v, err := convert.Convert(cty.StringVal(raw), ty)
		if err != nil {
			if bad != nil {
				bad(o.Name, raw)
			}
			v = cty.NullVal(ty)
		}
		attrs[o.Name] = v
	}
	return cty.ObjectVal(attrs)
}

// mayNotRun reports whether a stage may end without outputs: its when is
// not the constant true, or on_failure lets the run continue past it.
func mayNotRun(s *Stage) (bool, string) {
	if s.OnFailure == OnFailureContinue {
		return true, "its on_failure is \"continue\", so it may fail and be continued past"
	}
	if s.When == nil {
		return false, ""
	}
	if v, d := s.When.Value(nil); !d.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && v.True() {
		return false, ""
	}
	return true, "its when can be false"
}

// pipelineExpressions lists every expression in a pipeline that can read
// stage outputs: local values, when, and the attributes of stage bodies.
func (p *Pipeline) pipelineExpressions() []hcl.Expression {
	var exprs []hcl.Expression
	for _, l := range p.Locals {
		exprs = append(exprs, l.Expr)
	}
	for _, s := range p.Stages {
		if s.When != nil {
			exprs = append(exprs, s.When)
		}
		if b, ok := s.Body.(*hclsyntax.Body); ok {
			exprs = append(exprs, bodyExpressions(b, true)...)
		}
	}
	return exprs
}

// bodyExpressions lists the attribute expressions of a body and its nested
// blocks; the host's meta-arguments of a stage body are left out.
func bodyExpressions(b *hclsyntax.Body, stageBody bool) []hcl.Expression {
	var exprs []hcl.Expression
	names := make([]string, 0, len(b.Attributes))
	for name := range b.Attributes {
		if !stageBody || !slices.Contains(MetaArguments, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		exprs = append(exprs, b.Attributes[name].Expr)
	}
	for _, nb := range b.Blocks {
		exprs = append(exprs, bodyExpressions(nb.Body, false)...)
	}
	return exprs
}

// outputRead is a reference to one output: stage.<stage>.<output>.
type outputRead struct {
	stage, output string
	rng           hcl.Range // the whole reference
}

// outputReads lists the outputs an expression reads directly.
func outputReads(expr hcl.Expression) []outputRead {
	var reads []outputRead
	for _, t := range expr.Variables() {
		if t.RootName() != "stage" || len(t) < 3 {
			continue
		}
		name, _, ok := traversalName(t)
		if !ok {
			continue
		}
		var out string
		switch step := t[2].(type) {
		case hcl.TraverseAttr:
			out = step.Name
		case hcl.TraverseIndex:
			if step.Key.Type() == cty.String && step.Key.IsKnown() && !step.Key.IsNull() {
				out = step.Key.AsString()
			}
		}
		if out == "" {
			continue
		}
		reads = append(reads, outputRead{stage: name, output: out, rng: hcl.RangeBetween(t[0].SourceRange(), t[2].SourceRange())})
	}
	return reads
}

// checkGuardedReads refuses a read of an output of a stage that may not
// run unless it is inside try() or can(): otherwise it fails during the
// run, possibly after the swap.
func (p *Pipeline) checkGuardedReads() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, expr := range p.pipelineExpressions() {
		guarded := guardedRanges(expr)
		for _, r := range outputReads(expr) {
			s := p.Stage(r.stage)
			if s == nil || within(r.rng, guarded) {
				continue
			}
			may, why := mayNotRun(s)
			if !may {
				continue
			}
			ref := fmt.Sprintf("stage.%s.%s", r.stage, r.output)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unguarded read of a stage that may not run",
				Detail: fmt.Sprintf("Stage %q may end without outputs (%s), and then its outputs are null, so reading %s would fail during the run. Guard the read: try(%s, <fallback>) gives the fallback, can(%s) tells whether it is there.",
					r.stage, why, ref, ref, ref),
				Subject: r.rng.Ptr(),
			})
		}
	}
	return diags
}

// guardedRanges are the ranges of the arguments of try() and can() calls
// in an expression.
func guardedRanges(expr hcl.Expression) []hcl.Range {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var out []hcl.Range
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "try" || call.Name == "can") {
			for _, a := range call.Args {
				out = append(out, a.Range())
			}
		}
		return nil
	})
	return out
}

func within(r hcl.Range, outer []hcl.Range) bool {
	for _, o := range outer {
		if r.Filename == o.Filename && r.Start.Byte >= o.Start.Byte && r.End.Byte <= o.End.Byte {
			return true
		}
	}
	return false
}

// CheckOutputReads refuses references to outputs a stage's plugin does not
// declare. declared holds the outputs of each stage whose schema is known.
func (p *Pipeline) CheckOutputReads(declared map[string][]sdk.Output) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, expr := range p.pipelineExpressions() {
		for _, r := range outputReads(expr) {
			outs, known := declared[r.stage]
			if !known || slices.ContainsFunc(outs, func(o sdk.Output) bool { return o.Name == r.output }) {
				continue
			}
			s := p.Stage(r.stage)
			var names []string
			for _, o := range outs {
				names = append(names, o.Name)
			}
			has := "It declares no outputs."
			if len(names) > 0 {
				has = "Its outputs: " + strings.Join(names, ", ") + "."
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared output",
				Detail:   fmt.Sprintf("Stage %q (plugin %s) has no output %q%s. %s", r.stage, s.Plugin, r.output, DidYouMean(r.output, names), has),
				Subject:  r.rng.Ptr(),
			})
		}
	}
	return diags
}
