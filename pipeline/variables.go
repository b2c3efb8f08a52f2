package pipeline

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix starts the environment variables that set input variables:
// REINSTALL_VAR_<name>=<value>.
const VarEnvPrefix = "REINSTALL_VAR_"

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
}

// VarInputs are the values given to a pipeline's variables from outside the
// file. Later sources win: the environment, then each var file in order,
// then --var.
type VarInputs struct {
	// Environ is the process environment; only REINSTALL_VAR_<name> entries
	// of declared variables are read.
	Environ []string
	// Files are --var-file paths: HCL files of `name = value` attributes.
	Files []string
	// Vars are --var name=value pairs.
	Vars map[string]string
	// Lenient leaves a required variable without a value unknown instead of
	// reporting it (reinstall validate).
	Lenient bool
}

// addVariable decodes a `variable "<name>"` block: its type (default any),
// a constant default that must fit it, a description and sensitive.
func (p *Pipeline) addVariable(block *hcl.Block) hcl.Diagnostics {
	v := &Variable{Name: block.Labels[0], Type: cty.DynamicPseudoType, DefRange: block.DefRange}
	content, diags := block.Body.Content(variableSchema)
	if !hclsyntax.ValidIdentifier(v.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   fmt.Sprintf("%q is not a valid variable name: use a letter, then letters, digits, '-' or '_'.", v.Name),
			Subject:  &block.LabelRanges[0],
		})
	}
	for _, prev := range p.Variables {
		if prev.Name == v.Name {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable",
				Detail:   fmt.Sprintf("A variable named %q is already declared at %s.", v.Name, prev.DefRange),
				Subject:  &block.LabelRanges[0],
			})
			return diags
		}
	}
	if attr, ok := content.Attributes["type"]; ok {
		ty, d := typeexpr.TypeConstraint(attr.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		var d hcl.Diagnostics
		v.Description, d = constantString(attr, "description")
		diags = append(diags, d...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if val.Type() != cty.Bool || val.IsNull() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid sensitive",
					Detail:   "sensitive must be true or false.",
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.Sensitive = val.True()
			}
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default of %q does not fit its type %s: %s.", v.Name, typeexpr.TypeString(v.Type), err),
					Subject:  attr.Expr.Range().Ptr(),
				})
			} else {
				v.Default, v.HasDefault = conv, true
			}
		}
	}
	p.Variables = append(p.Variables, v)
	return diags
}

// Variable returns the declared variable with the given name, or nil.
func (p *Pipeline) Variable(name string) *Variable {
	for _, v := range p.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// VariableValue returns an input variable's value once assigned.
func (p *Pipeline) VariableValue(name string) (cty.Value, bool) {
	v, ok := p.Values[name]
	return v, ok
}

// AssignVariables gives every declared variable its value: --var, else the
// last var file that sets it, else REINSTALL_VAR_<name>, else its default.
// A required variable with none of these is an error (unknown if Lenient).
func (p *Pipeline) AssignVariables(in VarInputs) hcl.Diagnostics {
	var diags hcl.Diagnostics
	values := map[string]cty.Value{}
	for _, kv := range in.Environ {
		name, raw, ok := strings.Cut(kv, "=")
		name, isVar := strings.CutPrefix(name, VarEnvPrefix)
		v := p.Variable(name)
		if !ok || !isVar || v == nil {
			continue // the environment is shared: other pipelines' variables are no error
		}
		val, d := p.parseVarString(v, raw, "<environment variable "+VarEnvPrefix+name+">")
		diags = append(diags, d...)
		values[name] = val
	}
	for _, f := range in.Files {
		d := p.readVarFile(f, values)
		diags = append(diags, d...)
	}
	names := make([]string, 0, len(in.Vars))
	for name := range in.Vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		raw := in.Vars[name]
		origin := "<value for --var " + name + ">"
		v := p.Variable(name)
		if v == nil {
			p.Sources[origin] = []byte(raw)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("--var %s=... sets a variable the pipeline does not declare%s. Declared: %s.", name, DidYouMean(name, p.variableNames()), p.declaredList()),
				Subject:  &hcl.Range{Filename: origin, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}},
			})
			continue
		}
		val, d := p.parseVarString(v, raw, origin)
		diags = append(diags, d...)
		values[name] = val
	}
	for _, v := range p.Variables {
		if _, ok := values[v.Name]; ok {
			continue
		}
		switch {
		case v.HasDefault:
			values[v.Name] = v.Default
		case in.Lenient:
			values[v.Name] = cty.UnknownVal(v.Type)
		default:
			values[v.Name] = cty.UnknownVal(v.Type)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail: fmt.Sprintf("Variable %q has no default, so it needs a value: --var %s=..., a --var-file, or the environment variable %s%s.",
					v.Name, v.Name, VarEnvPrefix, v.Name),
				Subject: v.DefRange.Ptr(),
			})
		}
	}
	p.Values = values
	return diags
}

// parseVarString turns a value given as text into the variable's type. A
// string (or any) variable takes the text as it is; other types parse it as
// an HCL expression: 3, true, ["a", "b"], {k = "v"}.
func (p *Pipeline) parseVarString(v *Variable, raw, origin string) (cty.Value, hcl.Diagnostics) {
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	p.Sources[origin] = []byte(raw)
	if diags := checkSourceLimits(origin, []byte(raw), true); diags.HasErrors() {
		return cty.UnknownVal(v.Type), diags
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), origin, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.UnknownVal(v.Type), diags
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.UnknownVal(v.Type), diags
	}
	return convertVarValue(v, val, expr.Range())
}

// readVarFile reads `name = value` attributes from a --var-file.
func (p *Pipeline) readVarFile(path string, values map[string]cty.Value) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variables file",
			Detail:   err.Error(),
			Subject:  &hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	p.Sources[path] = src
	if diags := checkSourceLimits(path, src, false); diags.HasErrors() {
		return diags
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return diags
	}
	attrs, diags := file.Body.JustAttributes()
	for _, attr := range sortedAttributes(attrs) {
		v := p.Variable(attr.Name)
		if v == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The pipeline declares no variable %q%s. Declared: %s.", attr.Name, DidYouMean(attr.Name, p.variableNames()), p.declaredList()),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		val, d = convertVarValue(v, val, attr.Expr.Range())
		diags = append(diags, d...)
		values[v.Name] = val
	}
	return diags
}

func convertVarValue(v *Variable, val cty.Value, rng hcl.Range) (cty.Value, hcl.Diagnostics) {
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		return cty.UnknownVal(v.Type), hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("Variable %q (declared at %s) is of type %s: %s.", v.Name, v.DefRange, typeexpr.TypeString(v.Type), err),
			Subject:  &rng,
		}}
	}
	return conv, nil
}

func (p *Pipeline) variableNames() []string {
	names := make([]string, len(p.Variables))
	for i, v := range p.Variables {
		names[i] = v.Name
	}
	return names
}

func (p *Pipeline) declaredList() string {
	if len(p.Variables) == 0 {
		return "none"
	}
	return strings.Join(p.variableNames(), ", ")
}

// variableObject is the var namespace: every declared variable's value.
func (p *Pipeline) variableObject() cty.Value {
	vals := map[string]cty.Value{}
	for _, v := range p.Variables {
		val, ok := p.Values[v.Name]
		if !ok {
			val = cty.UnknownVal(v.Type)
		}
		if v.Sensitive {
			val = val.Mark(sensitiveMark)
		}
		vals[v.Name] = val
	}
	return cty.ObjectVal(vals)
}

// constantString evaluates an attribute that must be a constant string.
func constantString(attr *hcl.Attribute, what string) (string, hcl.Diagnostics) {
	val, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if val.IsNull() || !val.IsKnown() || val.Type() != cty.String {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what,
			Detail:   what + " must be a string.",
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	return val.AsString(), nil
}

// sortedAttributes returns attributes in source order.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b *hcl.Attribute) int { return a.Range.Start.Byte - b.Range.Start.Byte })
	return list
}
