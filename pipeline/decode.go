package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// stageSpec turns a plugin's schema into the spec the host decodes the stage
// body with, so unknown attributes, wrong types and missing required ones are
// reported by the host with their source range. Nested blocks decode to an
// object (single) or a list of objects (list).
func StageSpec(plugin string, schema sdk.Schema) (hcldec.ObjectSpec, error) {
	spec, err := attributesSpec(schema.Attributes)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", plugin, err)
	}
	for name := range spec {
		if slices.Contains(MetaArguments, name) {
			return nil, fmt.Errorf("plugin %s declares attribute %q, which is reserved for the host", plugin, name)
		}
	}
	for _, b := range schema.Blocks {
		if _, dup := spec[b.Name]; dup || slices.Contains(MetaArguments, b.Name) || !hclsyntax.ValidIdentifier(b.Name) {
			return nil, fmt.Errorf("plugin %s: block %q: not a valid name, reserved for the host or declared twice", plugin, b.Name)
		}
		nested, err := attributesSpec(b.Attributes)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: block %q: %w", plugin, b.Name, err)
		}
		for _, a := range b.Attributes {
			if a.Sensitive {
				return nil, fmt.Errorf("plugin %s: block %q: attribute %q: sensitive attributes are not supported inside a block", plugin, b.Name, a.Name)
			}
		}
		switch b.Nesting {
		case sdk.NestingSingle:
			spec[b.Name] = &hcldec.BlockSpec{TypeName: b.Name, Nested: nested}
		case sdk.NestingList:
			spec[b.Name] = &hcldec.BlockListSpec{TypeName: b.Name, Nested: nested}
		default:
			return nil, fmt.Errorf("plugin %s: block %q: unknown nesting %d", plugin, b.Name, b.Nesting)
		}
	}
	return spec, nil
}

// attributesSpec is the spec of a body (or block) holding attrs.
func attributesSpec(attrs []sdk.Attribute) (hcldec.ObjectSpec, error) {
	spec := hcldec.ObjectSpec{}
	for _, a := range attrs {
		expr, diags := hclsyntax.ParseExpression([]byte(a.Type), "schema", hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("attribute %q has an invalid type %q", a.Name, a.Type)
		}
		ty, diags := typeexpr.TypeConstraint(expr)
		if diags.HasErrors() {
			return nil, fmt.Errorf("attribute %q has an invalid type %q", a.Name, a.Type)
		}
		attr, err := attributeSpec(a, ty)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		spec[a.Name] = attr
	}
	return spec, nil
}

// decodedBody is a stage body evaluated for its plugin.
type DecodedBody struct {
	// Config is the body as a JSON object.
	Config []byte
	// Unknown names the attributes not known yet (they read outputs of
	// stages that have not run): null in config.
	Unknown []string
	// Derived names the attributes whose value is computed from a
	// sensitive variable: never journaled or shown.
	Derived []string
	// Secrets are the string values derived from sensitive variables,
	// which the run hides wherever text leaves it.
	Secrets []string
}

// decodeBody evaluates a stage's plugin-owned attributes.
func DecodeBody(s *Stage, spec hcldec.ObjectSpec, ctx *hcl.EvalContext) (DecodedBody, hcl.Diagnostics) {
	var out DecodedBody
	val, diags := hcldec.Decode(s.Body, spec, ctx)
	if diags.HasErrors() {
		return out, suggestAttributes(diags, spec, nestedBlockRanges(s.Body))
	}
	if md := markedDiags(val); md.HasErrors() {
		return out, md
	}
	if sd := checkValueSize("stage "+s.Name+"'s arguments", val, s.DefRange); sd.HasErrors() {
		return out, sd
	}
	val, out.Derived, out.Secrets = unmarkSensitive(val)
	var unknown []string
	attrs := map[string]cty.Value{}
	for name := range spec {
		v := val.GetAttr(name)
		if !v.IsWhollyKnown() {
			unknown = append(unknown, name)
			v = cty.NullVal(v.Type())
			if v.Type() == cty.DynamicPseudoType {
				v = cty.NullVal(cty.String)
			}
		}
		attrs[name] = v
	}
	obj := cty.ObjectVal(attrs)
	if len(attrs) == 0 {
		obj = cty.EmptyObjectVal
	}
	config, err := ctyjson.Marshal(obj, obj.Type())
	if err != nil {
		return out, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot encode stage configuration",
			Detail:   err.Error(),
			Subject:  s.DefRange.Ptr(),
		}}
	}
	slices.Sort(unknown)
	out.Config, out.Unknown = config, unknown
	return out, nil
}

// suggestAttributes adds a "did you mean" to unsupported-argument errors,
// and drops the "missing required argument" a misspelt name causes: the
// typo is the one thing to fix. Problems inside a nested block (within
// one of the blocks ranges) are left as they are: the stage's names are not
// the block's.
func suggestAttributes(diags hcl.Diagnostics, spec hcldec.ObjectSpec, blocks []hcl.Range) hcl.Diagnostics {
	var names []string
	for name := range spec {
		names = append(names, name)
	}
	names = append(names, MetaArguments...)
	meant := map[string]bool{}
	for _, d := range diags {
		if d.Summary != "Unsupported argument" || d.Subject == nil || withinAny(*d.Subject, blocks) {
			continue
		}
		// The detail names the argument: `An argument named "scrpt" is not expected here.`
		var given string
		if _, err := fmt.Sscanf(d.Detail, "An argument named %q", &given); err != nil {
			continue
		}
		if !strings.Contains(d.Detail, "Did you mean") {
			d.Detail += DidYouMean(given, names)
		}
		if _, suggested, ok := strings.Cut(d.Detail, "ean "); ok {
			var name string
			if _, err := fmt.Sscanf(suggested, "%q", &name); err == nil {
				meant[name] = true
			}
		}
	}
	var out hcl.Diagnostics
	for _, d := range diags {
		var name string
		if d.Summary == "Missing required argument" && (d.Subject == nil || !withinAny(*d.Subject, blocks)) {
			if _, err := fmt.Sscanf(d.Detail, "The argument %q is required", &name); err == nil && meant[name] {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// AttributeRange finds where a plugin diagnostic's attribute is set: "name",
// or "name[i]" for an element of a list written as [ ... ]; it falls back to
// the attribute, then to the stage block.
func AttributeRange(s *Stage, path string) hcl.Range {
	name, index, hasIndex := parseAttributePath(path)
	if name == "" {
		return s.DefRange
	}
	content, _, _ := s.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: name}}})
	attr, ok := content.Attributes[name]
	if !ok {
		return s.DefRange
	}
	if tuple, isTuple := attr.Expr.(*hclsyntax.TupleConsExpr); hasIndex && isTuple && index < len(tuple.Exprs) {
		return tuple.Exprs[index].Range()
	}
	return attr.Expr.Range()
}

// parseAttributePath splits "paths[2]" into "paths", 2.
func parseAttributePath(path string) (name string, index int, hasIndex bool) {
	name, rest, found := strings.Cut(path, "[")
	if !found {
		return path, 0, false
	}
	i, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil || i < 0 || !strings.HasSuffix(rest, "]") {
		return name, 0, false
	}
	return name, i, true
}

// pluginDiagnostics maps a plugin's diagnostics back to the HCL source.
func PluginDiagnostics(s *Stage, pd sdk.Diagnostics) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, d := range pd {
		sev := hcl.DiagError
		if d.Warning {
			sev = hcl.DiagWarning
		}
		rng := AttributeRange(s, d.Attribute)
		diags = append(diags, &hcl.Diagnostic{
			Severity: sev,
			Summary:  d.Summary,
			Detail:   fmt.Sprintf("%s (stage %q, plugin %s)", d.Detail, s.Name, s.Plugin),
			Subject:  &rng,
		})
	}
	return diags
}

// evalWhen evaluates a stage's when expression; no expression means true.
// known is false when the value depends on something not known yet.
func EvalWhen(s *Stage, ctx *hcl.EvalContext) (run bool, known bool, diags hcl.Diagnostics) {
	if s.When == nil {
		return true, true, nil
	}
	v, diags := s.When.Value(ctx)
	if diags.HasErrors() {
		return false, false, diags
	}
	if md := markedDiags(v); md.HasErrors() {
		return false, false, md
	}
	v, _ = v.UnmarkDeep()
	if v.Type() != cty.Bool && v.Type() != cty.DynamicPseudoType || v.IsKnown() && v.IsNull() {
		rng := s.When.Range()
		what := v.Type().FriendlyName()
		if v.IsNull() {
			what = "null"
		}
		return false, true, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid when expression",
			Detail:   fmt.Sprintf("when must be a boolean (true runs the stage, false skips it); this is %s.", what),
			Subject:  &rng,
		}}
	}
	if !v.IsKnown() {
		return false, false, nil
	}
	return v.True(), true, nil
}

// nestedBlockRanges are the ranges of the blocks written in a stage body.
func nestedBlockRanges(body hcl.Body) []hcl.Range {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var out []hcl.Range
	for _, block := range b.Blocks {
		out = append(out, block.Range())
	}
	return out
}

func withinAny(r hcl.Range, ranges []hcl.Range) bool {
	for _, o := range ranges {
		if o.Filename == r.Filename && o.ContainsOffset(r.Start.Byte) {
			return true
		}
	}
	return false
}
