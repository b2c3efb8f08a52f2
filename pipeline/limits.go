package pipeline

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Bounds on what a pipeline file (or a variable value in HCL syntax) may
// make the host do. hcl parses and evaluates by recursion, one call chain
// per level of nesting, so 100,000 nested parentheses overflow the stack
// (a crash no error path can catch); and locals that double each other
// grow without limit. Both are refused with a diagnostic instead.
const (
	// MaxNesting bounds brackets, braces, parentheses, quotes, template
	// interpolations and chained unary operators (!!x, - -x) inside one
	// another. Real pipelines stay below ten.
	MaxNesting = 64
	// MaxSourceBytes bounds a pipeline file or a variables file.
	MaxSourceBytes = 4 << 20
	// MaxValueBytes bounds one evaluated value (a local, a stage argument):
	// the bytes of its strings plus 8 per number, bool, element or null.
	MaxValueBytes = 1 << 20
)

// checkSourceLimits refuses HCL source that is too large or nests deeper than
// MaxNesting, before hcl parses it: it only lexes (no recursion) and
// counts. expression is true for a lone expression (a --var value).
func checkSourceLimits(filename string, src []byte, expression bool) hcl.Diagnostics {
	if len(src) > MaxSourceBytes {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Source too large",
			Detail:   fmt.Sprintf("%s is %d bytes; at most %d are read.", filename, len(src), MaxSourceBytes),
			Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	lex := hclsyntax.LexConfig
	if expression {
		lex = hclsyntax.LexExpression
	}
	tokens, _ := lex(src, filename, hcl.InitialPos) // lexing errors are the parser's to report
	depth, unary := 0, 0
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
		switch t.Type {
		case hclsyntax.TokenBang, hclsyntax.TokenMinus, hclsyntax.TokenQuestion:
			unary++
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
		default:
			unary = 0
		}
		if depth > MaxNesting || unary > MaxNesting {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Nesting too deep",
				Detail: fmt.Sprintf("Expressions and blocks may nest at most %d levels (brackets, braces, parentheses, quotes, interpolations, unary operators); this one goes deeper here.",
					MaxNesting),
				Subject: t.Range.Ptr(),
			}}
		}
	}
	return nil
}

// checkValueSize refuses a value larger than MaxValueBytes, with the range
// of the expression that made it.
func checkValueSize(what string, v cty.Value, rng hcl.Range) hcl.Diagnostics {
	if valueSize(v, MaxValueBytes) <= MaxValueBytes {
		return nil
	}
	return hcl.Diagnostics{tooLarge(what, rng)}
}

func tooLarge(what string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value too large",
		Detail:   fmt.Sprintf("The value of %s would exceed %d bytes, the most one value may hold.", what, MaxValueBytes),
		Subject:  rng.Ptr(),
	}
}

// referencedSize is what the values an expression reads add up to, each
// counted once per reference: a template that repeats a large local many
// times is refused before it is built.
func referencedSize(expr hcl.Expression, ctx *hcl.EvalContext) int {
	total := 0
	for _, t := range expr.Variables() {
		v, diags := t.TraverseAbs(ctx)
		if diags.HasErrors() {
			continue
		}
		total += valueSize(v, MaxValueBytes+1)
		if total > MaxValueBytes {
			break
		}
	}
	return total
}

// valueSize is the size of v as MaxValueBytes counts it, computed only up
// to limit (a larger value returns something above limit).
func valueSize(v cty.Value, limit int) int {
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() || v.IsNull() {
		return 8
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return len(v.AsString())
	case ty.IsPrimitiveType():
		return 8
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		total := 0
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			total += 8 + valueSize(e, limit-total)
			if ty.IsMapType() || ty.IsObjectType() {
				total += valueSize(k, limit-total)
			}
			if total > limit {
				return total
			}
		}
		return total
	}
	return 8
}

// SourceFile is src as an hcl.File for printing diagnostics with their
// snippets: parsed if it is within the limits, else only its bytes (a
// source nested too deep must not be parsed even to be shown).
func SourceFile(filename string, src []byte) *hcl.File {
	if checkSourceLimits(filename, src, false).HasErrors() {
		return &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
	}
	f, _ := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	return f
}
