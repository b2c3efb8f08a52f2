package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// attributeSpec decodes one attribute of a plugin's schema: of type ty,
// with the schema's default where it is left out, and checked against the
// schema's enum and whole-number rule once its value is known (a problem
// points at the attribute's value in the file).
func attributeSpec(a sdk.Attribute, ty cty.Type) (hcldec.Spec, error) {
	var spec hcldec.Spec = &hcldec.AttrSpec{Name: a.Name, Type: ty, Required: a.Required}
	if a.Default != nil {
		if a.Required {
			return nil, errors.New("a required attribute has a default")
		}
		raw, err := json.Marshal(a.Default)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		v, err := ctyjson.Unmarshal(raw, ty)
		if err != nil {
			return nil, fmt.Errorf("default %s is not a %s", raw, ty.FriendlyName())
		}
		spec = &hcldec.DefaultSpec{Primary: spec, Default: &hcldec.LiteralSpec{Value: v}}
	}
	if len(a.Enum) > 0 && ty != cty.String {
		return nil, fmt.Errorf("an enum is for string attributes, not %s", ty.FriendlyName())
	}
	if a.Whole && ty != cty.Number {
		return nil, fmt.Errorf("whole is for number attributes, not %s", ty.FriendlyName())
	}
	if len(a.Enum) == 0 && !a.Whole {
		return spec, nil
	}
	return &hcldec.ValidateSpec{Wrapped: spec, Func: func(v cty.Value) hcl.Diagnostics {
		return checkAttributeValue(a, v)
	}}, nil
}

// checkAttributeValue applies the enum and whole-number rules to a known value.
func checkAttributeValue(a sdk.Attribute, v cty.Value) hcl.Diagnostics {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch {
	case len(a.Enum) > 0 && !slices.Contains(a.Enum, v.AsString()):
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for " + a.Name,
			Detail:   fmt.Sprintf("%s is %q; it must be one of %s%s.", a.Name, v.AsString(), quoteAll(a.Enum), DidYouMean(v.AsString(), a.Enum)),
		}}
	case a.Whole && !v.AsBigFloat().IsInt():
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for " + a.Name,
			Detail:   fmt.Sprintf("%s is %s; it must be a whole number.", a.Name, v.AsBigFloat().Text('g', -1)),
		}}
	}
	return nil
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
