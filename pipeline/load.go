package pipeline

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "pipeline", LabelNames: []string{"name"}}},
}

var pipelineSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "stage", LabelNames: []string{"kind", "name"}}},
}

// metaSchema holds the meta-arguments the host owns in every stage body.
var metaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "plugin"}, {Name: "timeout"}, {Name: "when"}, {Name: "on_failure"},
	},
}

// MetaArguments are the stage attributes the host owns; plugins cannot use them.
var MetaArguments = []string{"plugin", "timeout", "when", "on_failure"}

// LoadFile reads and decodes a pipeline file.
func LoadFile(path string) (*Pipeline, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read pipeline file",
			Detail:   err.Error(),
		}}
	}
	return Load(path, src)
}

// LoadDefault decodes the embedded default pipeline.
func LoadDefault() (*Pipeline, hcl.Diagnostics) {
	return Load(DefaultFilename, DefaultSource)
}

// Load decodes a pipeline from HCL source. Only the structure and the host's
// meta-arguments are decoded here; plugin-owned attributes are decoded by
// Check once the plugins' schemas are known.
func Load(filename string, src []byte) (*Pipeline, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, moreDiags := file.Body.Content(fileSchema)
	diags = append(diags, moreDiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	if len(content.Blocks) != 1 {
		rng := file.Body.MissingItemRange()
		if len(content.Blocks) > 1 {
			rng = content.Blocks[1].DefRange
		}
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Exactly one pipeline block required",
			Detail:   fmt.Sprintf("A pipeline file holds one pipeline \"<name>\" block; this one has %d.", len(content.Blocks)),
			Subject:  &rng,
		})
	}
	block := content.Blocks[0]
	p := &Pipeline{Name: block.Labels[0], Filename: filename, Source: src}
	body, moreDiags := block.Body.Content(pipelineSchema)
	diags = append(diags, moreDiags...)
	seen := map[string]*Stage{}
	for _, sb := range body.Blocks {
		stage, stageDiags := decodeStage(sb)
		diags = append(diags, stageDiags...)
		if stage == nil {
			continue
		}
		if prev := seen[stage.Name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate stage name",
				Detail:   fmt.Sprintf("A stage named %q is already declared at %s. Stage names are unique within a pipeline.", stage.Name, prev.DefRange),
				Subject:  &sb.LabelRanges[1],
			})
			continue
		}
		seen[stage.Name] = stage
		p.Stages = append(p.Stages, stage)
	}
	if len(p.Stages) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty pipeline",
			Detail:   "A pipeline needs stages; see the embedded default (reinstall validate --default).",
			Subject:  &block.DefRange,
		})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return p, append(diags, checkStructure(p)...)
}

func decodeStage(block *hcl.Block) (*Stage, hcl.Diagnostics) {
	kind, name := block.Labels[0], block.Labels[1]
	s := &Stage{Kind: kind, Name: name, OnFailure: OnFailureRollback, DefRange: block.DefRange, KindRange: block.LabelRanges[0]}
	var diags hcl.Diagnostics
	if !slices.Contains(Kinds, kind) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown stage kind",
			Detail:   fmt.Sprintf("%q is not a stage kind%s. Kinds: %v.", kind, didYouMean(kind, Kinds), Kinds),
			Subject:  &block.LabelRanges[0],
		})
	}
	if !validStageName(name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid stage name",
			Detail:   fmt.Sprintf("%q is not a valid stage name: use a letter, then letters, digits, '-' or '_'.", name),
			Subject:  &block.LabelRanges[1],
		})
	}
	meta, remain, moreDiags := block.Body.PartialContent(metaSchema)
	diags = append(diags, moreDiags...)
	s.Body = remain
	s.Plugin = BuiltinPlugin[kind]
	s.PluginRange = block.DefRange
	if attr, ok := meta.Attributes["plugin"]; ok {
		// The plugin must be known before anything is evaluated: a constant.
		v, d := attr.Expr.Value(nil)
		if d.HasErrors() || v.Type().FriendlyName() != "string" || v.IsNull() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin",
				Detail:   "plugin must be a constant string naming a plugin (e.g. \"acme-license\"); variables and expressions are not allowed here.",
				Subject:  attr.Expr.Range().Ptr(),
			})
		} else {
			s.Plugin = v.AsString()
			s.PluginRange = attr.Expr.Range()
		}
	}
	if attr, ok := meta.Attributes["timeout"]; ok {
		v, d := attr.Expr.Value(nil)
		var dur time.Duration
		var err error
		if !d.HasErrors() && v.Type().FriendlyName() == "string" && !v.IsNull() {
			dur, err = time.ParseDuration(v.AsString())
		}
		if d.HasErrors() || v.Type().FriendlyName() != "string" || v.IsNull() || err != nil || dur <= 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid timeout",
				Detail:   "timeout must be a constant positive duration such as \"90s\" or \"2m\".",
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
		s.Timeout = dur
	}
	if attr, ok := meta.Attributes["when"]; ok {
		s.When = attr.Expr
	}
	if attr, ok := meta.Attributes["on_failure"]; ok {
		v, d := attr.Expr.Value(nil)
		if d.HasErrors() || v.Type().FriendlyName() != "string" || v.IsNull() ||
			(v.AsString() != OnFailureRollback && v.AsString() != OnFailureContinue) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid on_failure",
				Detail:   "on_failure must be \"rollback\" (the default) or \"continue\".",
				Subject:  attr.Expr.Range().Ptr(),
			})
		} else {
			s.OnFailure = v.AsString()
		}
	}
	return s, diags
}

func validStageName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// didYouMean suggests the closest option when one is near enough to be a typo.
func didYouMean(given string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if d := levenshtein.Distance(given, o, nil); d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
