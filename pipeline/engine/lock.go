package engine

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
)

// PluginPin is the SHA-256 of the file an external plugin name resolves to.
type PluginPin struct {
	Name   string
	Path   string
	SHA256 string
}

// LockPlugins pins every external plugin p uses or already pins: each name
// is resolved as a run would resolve it (the same directories, the same
// trust checks) and its file hashed. A plugin that is not installed, or
// whose file is refused, is an error naming it. Pins come sorted by name.
func LockPlugins(h *vz.Host, p *pipeline.Pipeline) ([]PluginPin, error) {
	var names []string
	for _, name := range p.Plugins() {
		name, _ = pipeline.PluginBinary(name) // pins are per binary, not per component
		if !slices.Contains(pipeline.BuiltinPlugins, name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for name := range p.RequiredPlugins {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	pins := make([]PluginPin, 0, len(names))
	for _, name := range names {
		if slices.Contains(pipeline.BuiltinPlugins, name) {
			continue // a pin of a built-in is refused by Load already
		}
		f, err := findPluginFile(h, p, name)
		if err != nil {
			return nil, err
		}
		sum, err := pluginhost.FileSHA256(f.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", name, err)
		}
		pins = append(pins, PluginPin{Name: name, Path: f.Path, SHA256: sum})
	}
	return pins, nil
}

// RequiredPluginsBlock is the required_plugins block that pins pins.
func RequiredPluginsBlock(pins []PluginPin) []byte {
	f := hclwrite.NewEmptyFile()
	setPins(f.Body().AppendNewBlock("required_plugins", nil).Body(), pins)
	return hclwrite.Format(f.Bytes())
}

// WriteRequiredPlugins returns src with its required_plugins block holding
// exactly pins: the block's entries are replaced where it exists, else the
// block is put first. Everything else in the file stays as it was; the
// result is checked to load.
func WriteRequiredPlugins(filename string, src []byte, pins []PluginPin) ([]byte, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	block := RequiredPluginsBlock(pins)
	out := append(append(slices.Clone(block), '\n'), src...)
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "required_plugins" {
			// The block's bytes alone are replaced (hclwrite would reformat
			// the whole file).
			r := b.Range()
			out = slices.Concat(src[:r.Start.Byte], bytes.TrimRight(block, "\n"), src[r.End.Byte:])
			break
		}
	}
	if _, diags := pipeline.Load(filename, out); diags.HasErrors() {
		return nil, diags
	}
	return out, nil
}

// setPins writes `name = { sha256 = "..." }` lines into a block body.
func setPins(body *hclwrite.Body, pins []PluginPin) {
	for _, pin := range pins {
		tokens := hclwrite.Tokens{
			{Type: hclsyntax.TokenOBrace, Bytes: []byte("{")},
			{Type: hclsyntax.TokenIdent, Bytes: []byte("sha256"), SpacesBefore: 1},
			{Type: hclsyntax.TokenEqual, Bytes: []byte("="), SpacesBefore: 1},
		}
		value := hclwrite.TokensForValue(cty.StringVal(pin.SHA256))
		value[0].SpacesBefore = 1
		tokens = append(tokens, value...)
		tokens = append(tokens, &hclwrite.Token{Type: hclsyntax.TokenCBrace, Bytes: []byte("}"), SpacesBefore: 1})
		body.SetAttributeRaw(pin.Name, tokens)
	}
	if len(pins) == 0 {
		body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# no external plugin is used\n")}})
	}
}
