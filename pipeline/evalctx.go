package pipeline

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/internal/redact"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// evalScope is what expressions in a pipeline can read: ct.*, opts.*,
// stage.<name>.*, var.* and local.*. A fresh EvalContext is built for every
// evaluation, as values become known (cty values are immutable).
type evalScope struct {
	rc       sdk.RunContext
	pipeline *Pipeline                    // variables and locals; nil: none
	outputs  map[string]map[string]string // stages that ran
	pending  map[string]bool              // stages whose outputs are not known yet
	// declared holds the outputs each stage's plugin declares, once its
	// schema is known. A stage that neither ran nor is pending (skipped,
	// failed and continued past, not reached) has null outputs.
	declared map[string][]sdk.Output
	// badOutput hears of an output a plugin returned that does not convert
	// to its declared type.
	badOutput func(stage, name, value string)
	// secrets collects the text of sensitive values met while checking;
	// nil: a set of the check's own.
	secrets *redact.Secrets
	// noContainer: validation without a container, so ct.* and opts.* are
	// not known.
	noContainer bool
}

// ctType and optsType are the shapes of the ct and opts namespaces.
var (
	ctType = cty.Object(map[string]cty.Type{
		"id": cty.Number, "name": cty.String, "private": cty.String, "private_tmp": cty.String,
		"root": cty.String, "ostemplate": cty.String, "hostname": cty.String, "config": cty.Map(cty.String),
	})
	optsType = cty.Object(map[string]cty.Type{
		"skipbackup": cty.Bool, "stop": cty.Bool,
		"resetpwdb": cty.Bool, "skipscripts": cty.Bool, "scripts": cty.List(cty.String),
		"nohealth": cty.Bool,
	})
)

func (e *evalScope) context() *hcl.EvalContext {
	ctx, _ := e.contextWithLocals()
	return ctx
}

// contextWithLocals builds the context and evaluates the locals in order;
// a local that fails is a marked unknown value (see localFailure) and its
// diagnostics are returned.
func (e *evalScope) contextWithLocals() (*hcl.EvalContext, hcl.Diagnostics) {
	vars := cty.EmptyObjectVal
	if e.pipeline != nil {
		vars = e.pipeline.variableObject()
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"ct":    e.ctValue(),
			"opts":  e.optsValue(),
			"stage": e.stageValue(),
			"var":   vars,
			"local": cty.EmptyObjectVal,
		},
		Functions: functions(),
	}
	if e.pipeline == nil || len(e.pipeline.Locals) == 0 {
		return ctx, nil
	}
	var diags hcl.Diagnostics
	locals := map[string]cty.Value{}
	for _, l := range e.pipeline.Locals {
		var v cty.Value
		var d hcl.Diagnostics
		if referencedSize(l.Expr, ctx) > MaxValueBytes {
			d = hcl.Diagnostics{tooLarge("local."+l.Name, l.Expr.Range())} // refused before it is built
		} else if v, d = l.Expr.Value(ctx); !d.HasErrors() {
			d = checkValueSize("local."+l.Name, v, l.Expr.Range())
		}
		if d.HasErrors() {
			diags = append(diags, d...)
			v = cty.DynamicVal.Mark(&localFailure{name: l.Name, diags: d})
		}
		locals[l.Name] = v
		ctx.Variables["local"] = cty.ObjectVal(locals)
	}
	return ctx, diags
}

func (e *evalScope) ctValue() cty.Value {
	if e.noContainer {
		return cty.UnknownVal(ctType)
	}
	cfg := map[string]cty.Value{}
	for k, v := range e.rc.Config {
		cfg[k] = cty.StringVal(v)
	}
	cfgVal := cty.MapValEmpty(cty.String)
	if len(cfg) > 0 {
		cfgVal = cty.MapVal(cfg)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"id":          cty.NumberIntVal(int64(e.rc.CTID)),
		"name":        cty.StringVal(e.rc.CTName),
		"private":     cty.StringVal(e.rc.Private),
		"private_tmp": cty.StringVal(e.rc.PrivateTmp),
		"root":        cty.StringVal(e.rc.VERoot),
		"ostemplate":  cty.StringVal(e.rc.OSTemplate),
		"hostname":    cty.StringVal(e.rc.Hostname),
		"config":      cfgVal,
	})
}

func (e *evalScope) optsValue() cty.Value {
	if e.noContainer {
		return cty.UnknownVal(optsType)
	}
	scripts := cty.ListValEmpty(cty.String)
	if len(e.rc.Options.Scripts) > 0 {
		vals := make([]cty.Value, len(e.rc.Options.Scripts))
		for i, s := range e.rc.Options.Scripts {
			vals[i] = cty.StringVal(s)
		}
		scripts = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"skipbackup":  cty.BoolVal(e.rc.Options.SkipBackup),
		"stop":        cty.BoolVal(e.rc.Options.Stop),
		"resetpwdb":   cty.BoolVal(e.rc.Options.ResetPwDB),
		"skipscripts": cty.BoolVal(e.rc.Options.SkipScripts),
		"scripts":     scripts,
		"nohealth":    cty.BoolVal(e.rc.Options.NoHealth),
	})
}

func (e *evalScope) stageValue() cty.Value {
	stages := map[string]cty.Value{}
	if e.pipeline != nil {
		for _, s := range e.pipeline.Stages {
			stages[s.Name] = e.oneStageValue(s.Name)
		}
	}
	for name := range e.pending {
		stages[name] = e.oneStageValue(name)
	}
	for name := range e.outputs {
		stages[name] = e.oneStageValue(name)
	}
	return cty.ObjectVal(stages)
}

// oneStageValue is stage.<name>: its declared outputs once it ran, unknown
// while it is pending, null when it did not run.
func (e *evalScope) oneStageValue(name string) cty.Value {
	outs, declared := e.declared[name]
	ran, didRun := e.outputs[name]
	switch {
	case didRun && declared:
		return outputsValue(outs, ran, func(out, value string) {
			if e.badOutput != nil {
				e.badOutput(name, out, value)
			}
		})
	case didRun:
		vals := map[string]cty.Value{}
		for k, v := range ran {
			vals[k] = cty.StringVal(v)
		}
		return cty.ObjectVal(vals)
	case e.pending[name] && declared:
		return cty.UnknownVal(outputsType(outs))
	case e.pending[name]:
		return cty.DynamicVal
	case declared:
		return cty.NullVal(outputsType(outs))
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// localFailure marks the value of a local that could not be evaluated, so
// that whatever reads it reports the local's own error, with its range,
// instead of running on with an unknown value.
type localFailure struct {
	name  string
	diags hcl.Diagnostics
}

// markedDiags returns the errors of the failed locals a value was computed
// from, if any.
func markedDiags(v cty.Value) hcl.Diagnostics {
	if !v.ContainsMarked() {
		return nil
	}
	var diags hcl.Diagnostics
	seen := map[*localFailure]bool{}
	_, pvm := v.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		for m := range pm.Marks {
			if lf, ok := m.(*localFailure); ok && !seen[lf] {
				seen[lf] = true
				diags = append(diags, lf.diags...)
			}
		}
	}
	return diags
}
