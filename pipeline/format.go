package pipeline

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in the canonical layout: hclwrite's indentation and
// alignment, "${x}" written as x, a quoted variable type written as a type,
// and one newline at the end. It edits tokens in place (hclwrite), so
// comments and the order of everything stay; a file with syntax errors is
// refused with its diagnostics, never half-formatted.
func Format(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if diags := checkSourceLimits(filename, src, false); diags.HasErrors() {
		return nil, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	f, diags := hclwrite.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	formatBody(f.Body(), "")
	out := hclwrite.Format(f.Bytes())
	out = append(bytes.TrimRight(out, "\n"), '\n')
	if len(bytes.TrimSpace(out)) == 0 {
		return []byte{}, nil
	}
	return out, nil
}

// formatBody normalises the attributes of a body and of its blocks.
func formatBody(body *hclwrite.Body, blockType string) {
	for name, attr := range body.Attributes() {
		tokens := attr.Expr().BuildTokens(nil)
		if blockType == "variable" && name == "type" {
			if unquoted, ok := unquoteType(tokens); ok {
				body.SetAttributeRaw(name, unquoted)
				continue
			}
		}
		if inner, ok := interpolationOnly(tokens); ok {
			body.SetAttributeRaw(name, inner)
		}
	}
	for _, b := range body.Blocks() {
		formatBody(b.Body(), b.Type())
	}
}

// interpolationOnly returns x for the tokens of "${x}", as Terraform's fmt
// does: a template that is one interpolation is the expression itself.
func interpolationOnly(tokens hclwrite.Tokens) (hclwrite.Tokens, bool) {
	if len(tokens) < 5 {
		return nil, false
	}
	first, last := tokens[0], tokens[len(tokens)-1]
	open, end := tokens[1], tokens[len(tokens)-2]
	if first.Type != hclsyntax.TokenOQuote || last.Type != hclsyntax.TokenCQuote ||
		open.Type != hclsyntax.TokenTemplateInterp || end.Type != hclsyntax.TokenTemplateSeqEnd ||
		string(open.Bytes) != "${" || string(end.Bytes) != "}" {
		return nil, false // "${~ x ~}" strips whitespace around it: not just x
	}
	inside := tokens[2 : len(tokens)-2]
	// Only a single interpolation qualifies: no other template sequence,
	// literal text, strip markers or newline at the top level inside.
	depth := 0
	for _, t := range inside {
		switch t.Type {
		case hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			depth++
		case hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			depth--
		case hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenQuotedLit, hclsyntax.TokenNewline, hclsyntax.TokenComment:
			if depth == 0 {
				return nil, false
			}
		}
	}
	out := make(hclwrite.Tokens, 0, len(inside))
	for i, t := range inside {
		c := *t
		if i == 0 {
			c.SpacesBefore = 0
		}
		out = append(out, &c)
	}
	return out, len(out) > 0
}

// unquoteType turns type = "string" (an old spelling) into type = string.
func unquoteType(tokens hclwrite.Tokens) (hclwrite.Tokens, bool) {
	if len(tokens) != 3 || tokens[0].Type != hclsyntax.TokenOQuote || tokens[1].Type != hclsyntax.TokenQuotedLit || tokens[2].Type != hclsyntax.TokenCQuote {
		return nil, false
	}
	switch name := string(tokens[1].Bytes); name {
	case "string", "number", "bool", "any":
		return hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(name)}}, true
	}
	return nil, false
}
