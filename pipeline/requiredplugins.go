package pipeline

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// pinnedPluginNameRE is what an external plugin's name may look like (its
// file is reinstall-plugin-<name>).
var PinnedPluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// decodeRequiredPlugins reads the pins of external plugins:
//
//	required_plugins {
//	  acme-license = { sha256 = "<64 hex digits>" }
//	}
//
// Everything in the block is a constant: plugins are resolved and checked
// before any expression is evaluated.
func (p *Pipeline) decodeRequiredPlugins(blocks []*hcl.Block) hcl.Diagnostics {
	p.RequiredPlugins = map[string]string{}
	p.RequiredPluginRanges = map[string]hcl.Range{}
	var diags hcl.Diagnostics
	for i, b := range blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate required_plugins block",
				Detail:   fmt.Sprintf("A pipeline file holds one required_plugins block; the first is at %s. Put every pin in it.", blocks[0].DefRange),
				Subject:  b.DefRange.Ptr(),
			})
			continue
		}
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, attr := range sortedAttributes(attrs) {
			sum, d := decodePin(attr)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			p.RequiredPlugins[attr.Name] = sum
			p.RequiredPluginRanges[attr.Name] = attr.Range
		}
	}
	return diags
}

// decodePin checks one `name = { sha256 = "..." }` entry.
func decodePin(attr *hcl.Attribute) (string, hcl.Diagnostics) {
	name := attr.Name
	switch {
	case slices.Contains(BuiltinPlugins, name):
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Built-in plugin pinned",
			Detail:   fmt.Sprintf("%q is built into reinstall: it is part of the binary and cannot be pinned. Remove this entry.", name),
			Subject:  attr.NameRange.Ptr(),
		}}
	case !PinnedPluginNameRE.MatchString(name):
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid plugin name",
			Detail:   fmt.Sprintf("%q is not a plugin name: lowercase letters, digits, '-' and '_', starting with a letter or digit.", name),
			Subject:  attr.NameRange.Ptr(),
		}}
	}
	val, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if val.IsNull() || !(val.Type().IsObjectType() || val.Type().IsMapType()) {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid required_plugins entry",
			Detail:   fmt.Sprintf("Pin a plugin as %s = { sha256 = \"<SHA-256 of its file, 64 hex digits>\" }.", name),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	for key := range val.AsValueMap() {
		if key != "sha256" {
			return "", hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Unsupported argument in required_plugins",
				Detail:   fmt.Sprintf("A pin has one argument, sha256; %q is not expected here%s.", key, DidYouMean(key, []string{"sha256"})),
				Subject:  pinItemRange(attr.Expr, key).Ptr(),
			}}
		}
	}
	sum := val.AsValueMap()["sha256"]
	if sum == cty.NilVal {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Missing sha256",
			Detail:   fmt.Sprintf("The pin of %s needs sha256 = \"<SHA-256 of its file, 64 hex digits>\" (sha256sum prints it).", name),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	if sum.Type() != cty.String || sum.IsNull() || !validSHA256(sum.AsString()) {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid SHA-256",
			Detail:   fmt.Sprintf("sha256 must be the 64 hexadecimal digits of the plugin file's SHA-256 (as sha256sum prints them); this is %s.", describeValue(sum)),
			Subject:  pinValueRange(attr.Expr, "sha256").Ptr(),
		}}
	}
	return strings.ToLower(sum.AsString()), nil
}

func validSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// pinItemRange and pinValueRange find a key, or its value, in an object
// constructor, for a diagnostic that points at it.
func pinItemRange(expr hcl.Expression, key string) hcl.Range {
	if item := objectItem(expr, key); item != nil {
		return item.KeyExpr.Range()
	}
	return expr.Range()
}

func pinValueRange(expr hcl.Expression, key string) hcl.Range {
	if item := objectItem(expr, key); item != nil {
		return item.ValueExpr.Range()
	}
	return expr.Range()
}

func objectItem(expr hcl.Expression, key string) *hclsyntax.ObjectConsItem {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	for i := range obj.Items {
		item := &obj.Items[i]
		if hcl.ExprAsKeyword(item.KeyExpr) == key {
			return item
		}
		if k, d := item.KeyExpr.Value(nil); !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key {
			return item
		}
	}
	return nil
}

// describeValue says what a wrong value is, for messages.
func describeValue(v cty.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "not known"
	case v.Type() == cty.String:
		s := v.AsString()
		if len(s) > 70 {
			s = s[:67] + "..."
		}
		return fmt.Sprintf("%q (%d characters)", s, len(v.AsString()))
	default:
		return "a " + v.Type().FriendlyName()
	}
}

// stagePluginNameRE is what a stage's plugin may be: a plugin, or a
// plugin set's component as <binary>.<component>.
var stagePluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)?$`)

// PluginBinary splits a stage's plugin name into the plugin binary and,
// for a plugin set's component ("acme.backup"), the component ("" for a
// plugin that is not part of a set). Pins and discovery are per binary.
func PluginBinary(name string) (binary, component string) {
	binary, component, _ = strings.Cut(name, ".")
	return binary, component
}
