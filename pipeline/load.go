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

// fileSchema is the top level of a pipeline file.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "pipeline", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "required_plugins"},
	},
}

var pipelineSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "runtime"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "stage", LabelNames: []string{"kind", "name"}}},
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
			Subject:  &hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	return Load(path, src)
}

// LoadDefault decodes the embedded default pipeline.
func LoadDefault() (*Pipeline, hcl.Diagnostics) {
	return Load(DefaultFilename, DefaultSource)
}

// Load decodes a pipeline from HCL source: the pipeline block and its
// stages with the host's meta-arguments, variable declarations, locals and
// required_plugins, and checks the order rules and every reference it can
// without plugins. Plugin-owned attributes are decoded once the plugins'
// schemas are known (checkStages); variable values are assigned by
// AssignVariables.
func Load(filename string, src []byte) (*Pipeline, hcl.Diagnostics) {
	if diags := checkSourceLimits(filename, src, false); diags.HasErrors() {
		return nil, diags
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	budgetForExprs(file.Body)
	content, moreDiags := file.Body.Content(fileSchema)
	diags = append(diags, moreDiags...)
	p := &Pipeline{Filename: filename, Source: src, Sources: map[string][]byte{filename: src}}
	var pipelines, locals, pins []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "pipeline":
			pipelines = append(pipelines, b)
		case "variable":
			diags = append(diags, p.addVariable(b)...)
		case "locals":
			locals = append(locals, b)
		case "required_plugins":
			pins = append(pins, b)
		}
	}
	diags = append(diags, p.decodeLocals(locals)...)
	diags = append(diags, p.decodeRequiredPlugins(pins)...)
	switch {
	case len(pipelines) == 0:
		rng := file.Body.MissingItemRange()
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing pipeline block",
			Detail:   "A pipeline file holds one pipeline \"<name>\" { ... } block of stages; see the embedded default (reinstall validate prints where it is).",
			Subject:  &rng,
		})
	case len(pipelines) > 1:
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate pipeline block",
			Detail:   fmt.Sprintf("A pipeline file holds exactly one pipeline block; %q is already declared at %s.", pipelines[0].Labels[0], pipelines[0].DefRange),
			Subject:  pipelines[1].DefRange.Ptr(),
		})
	}
	diags = append(diags, p.decodePipelineBlock(pipelines[0])...)
	if !diags.HasErrors() {
		// Order rules only make sense once every stage is well formed.
		diags = append(diags, checkStructure(p)...)
	}
	diags = append(diags, p.checkStaticReferences()...)
	if diags.HasErrors() {
		return nil, diags
	}
	return p, diags
}

// decodePipelineBlock decodes the stages of the pipeline block.
func (p *Pipeline) decodePipelineBlock(block *hcl.Block) hcl.Diagnostics {
	p.Name = block.Labels[0]
	body, diags := block.Body.Content(pipelineSchema)
	diags = append(diags, p.decodeRuntime(body.Attributes["runtime"])...)
	seen := map[string]*Stage{}
	for _, sb := range body.Blocks {
		stage, stageDiags := decodeStage(sb)
		diags = append(diags, stageDiags...)
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
			Detail:   "A pipeline needs stages; see the embedded default (examples/pipelines/default.hcl).",
			Subject:  &block.DefRange,
		})
	}
	return diags
}

func decodeStage(block *hcl.Block) (*Stage, hcl.Diagnostics) {
	kind, name := block.Labels[0], block.Labels[1]
	s := &Stage{Kind: kind, Name: name, OnFailure: OnFailureRollback, DefRange: block.DefRange, KindRange: block.LabelRanges[0], OnFailureRange: block.DefRange}
	var diags hcl.Diagnostics
	if !slices.Contains(Kinds, kind) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown stage kind",
			Detail:   fmt.Sprintf("%q is not a stage kind%s. Kinds: %v.", kind, DidYouMean(kind, Kinds), Kinds),
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
		if d.HasErrors() || v.Type().FriendlyName() != "string" || v.IsNull() || !stagePluginNameRE.MatchString(v.AsString()) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin",
				Detail:   "plugin must be a constant string naming a plugin (e.g. \"acme-license\": lowercase letters, digits, '-' and '_'), or a plugin set's component (\"acme.backup\"); variables and expressions are not allowed here.",
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
			s.OnFailureRange = attr.Expr.Range()
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
func DidYouMean(given string, options []string) string {
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
