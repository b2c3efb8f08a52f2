package pipeline

import (
	"encoding/json"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/internal/redact"
)

// A sensitive variable's value carries a cty mark, which every function,
// template, operator and collection built from it propagates: lower(var.token),
// "${var.token}", [var.token] and {k = var.token} are all sensitive. An
// attribute whose value holds a marked value is sensitive as a schema's
// sensitive attribute is toward the operator: "(sensitive)" in plan, never
// in the journal, and its text hidden wherever the run writes (the plugin
// still receives it in its Config, to use it).

// valueMark is a cty mark the host puts on values.
type valueMark string

// sensitiveMark marks a value computed from a sensitive variable.
const sensitiveMark valueMark = "sensitive"

// unmarkSensitive removes the marks of an evaluated stage body (an object),
// and returns the attributes that held a sensitive value and the text of
// every such value.
func unmarkSensitive(val cty.Value) (cty.Value, []string, []string) {
	val, pvm := val.UnmarkDeepWithPaths()
	var attrs, secrets []string
	for _, pm := range pvm {
		if _, ok := pm.Marks[sensitiveMark]; !ok {
			continue
		}
		if len(pm.Path) == 0 {
			for name := range val.Type().AttributeTypes() {
				attrs = append(attrs, name)
			}
		} else if ga, ok := pm.Path[0].(cty.GetAttrStep); ok && !slices.Contains(attrs, ga.Name) {
			attrs = append(attrs, ga.Name)
		}
		if sub, err := pm.Path.Apply(val); err == nil {
			secrets = append(secrets, valueStrings(sub)...)
		}
	}
	slices.Sort(attrs)
	return val, slices.Compact(attrs), secrets
}

// valueStrings lists the known strings and numbers in a value, as text.
func valueStrings(v cty.Value) []string {
	if v.IsMarked() {
		v, _ = v.UnmarkDeep()
	}
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	switch {
	case v.Type() == cty.String:
		return []string{v.AsString()}
	case v.Type() == cty.Number:
		return []string{v.AsBigFloat().Text('f', -1)}
	case v.CanIterateElements():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, valueStrings(e)...)
		}
		return out
	}
	return nil
}

// configStrings lists the text of the given attributes of a decoded
// configuration (a JSON object): the values of sensitive attributes.
func ConfigStrings(config []byte, names []string) []string {
	var attrs map[string]any
	if json.Unmarshal(config, &attrs) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, n := range names {
		walk(attrs[n])
	}
	return out
}

// union is a and b without repeats, sorted.
func Union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// A plugin schema's sensitive attributes (a license key, say) never leave
// the host's memory except through HostServices.GetSecret: the configuration
// a plugin's Validate, Run and Rollback receive, and the one the journal
// records, holds them as null. So they reach no file, log or environment,
// and a rollback during `reinstall recover` cannot read them.

// withoutSensitive returns a stage's decoded configuration (a JSON object)
// with its sensitive attributes set to null.
func WithoutSensitive(config []byte, sensitive []string) []byte {
	if len(sensitive) == 0 || len(config) == 0 {
		return config
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(config, &attrs); err != nil {
		return []byte("{}") // never leak what cannot be parsed
	}
	for _, name := range sensitive {
		if _, ok := attrs[name]; ok {
			attrs[name] = json.RawMessage("null")
		}
	}
	out, err := json.Marshal(attrs)
	if err != nil {
		return []byte("{}")
	}
	return out
}

// withSensitiveUnknown adds the sensitive attributes to the attributes a
// plugin's Validate is told are not known (their values are hidden from it).
func WithSensitiveUnknown(unknown, sensitive []string) []string {
	out := slices.Clone(unknown)
	for _, name := range sensitive {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// SensitiveValues is the text of the sensitive variables' values.
func (p *Pipeline) SensitiveValues() []string {
	var out []string
	for _, v := range p.Variables {
		if val, ok := p.Values[v.Name]; ok && v.Sensitive {
			out = append(out, valueStrings(val)...)
		}
	}
	return out
}

// redactDiags hides secrets in the summary and detail of diagnostics.
func RedactDiags(secrets *redact.Secrets, diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		d.Summary = secrets.String(d.Summary)
		d.Detail = secrets.String(d.Detail)
	}
	return diags
}
