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
type EvalScope struct {
	RunContext sdk.RunContext
	Pipeline   *Pipeline                    // variables and locals; nil: none
	Outputs    map[string]map[string]string // stages that ran
	Pending    map[string]bool              // stages whose outputs are not known yet
	// Declared holds the outputs each stage's plugin declares, once its
	// schema is known. A stage that neither ran nor is pending (skipped,
	// failed and continued past, not reached) has null outputs.
	Declared map[string][]sdk.Output
	// BadOutput hears of an output a plugin returned that does not convert
	// to its declared type.
	BadOutput func(stage, name, value string)
	// Secrets collects the text of sensitive values met while checking;
	// nil: a set of the check's own.
	Secrets *redact.Secrets
	// NoContainer: validation without a container, so ct.* and opts.* are
	// not known.
	NoContainer bool
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

func (e *EvalScope) Context() *hcl.EvalContext {
	ctx, _ := e.ContextWithLocals()
	return ctx
}

// ContextWithLocals builds the context and evaluates the locals in order;
// a local that fails is a marked unknown value (see localFailure) and its
// diagnostics are returned.
func (e *EvalScope) ContextWithLocals() (*hcl.EvalContext, hcl.Diagnostics) {
	vars := cty.EmptyObjectVal
	if e.Pipeline != nil {
		vars = e.Pipeline.variableObject()
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
	if e.Pipeline == nil || len(e.Pipeline.Locals) == 0 {
		return ctx, nil
	}
	var diags hcl.Diagnostics
	locals := map[string]cty.Value{}
	for _, l := range e.Pipeline.Locals {
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

func (e *EvalScope) ctValue() cty.Value {
	if e.NoContainer {
		return cty.UnknownVal(ctType)
	}
	cfg := map[string]cty.Value{}
	for k, v := range e.RunContext.Config {
		cfg[k] = cty.StringVal(v)
	}
	cfgVal := cty.MapValEmpty(cty.String)
	if len(cfg) > 0 {
		cfgVal = cty.MapVal(cfg)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"id":          cty.NumberIntVal(int64(e.RunContext.CTID)),
		"name":        cty.StringVal(e.RunContext.CTName),
		"private":     cty.StringVal(e.RunContext.Private),
		"private_tmp": cty.StringVal(e.RunContext.PrivateTmp),
		"root":        cty.StringVal(e.RunContext.VERoot),
		"ostemplate":  cty.StringVal(e.RunContext.OSTemplate),
		"hostname":    cty.StringVal(e.RunContext.Hostname),
		"config":      cfgVal,
	})
}

func (e *EvalScope) optsValue() cty.Value {
	if e.NoContainer {
		return cty.UnknownVal(optsType)
	}
	scripts := cty.ListValEmpty(cty.String)
	if len(e.RunContext.Options.Scripts) > 0 {
		vals := make([]cty.Value, len(e.RunContext.Options.Scripts))
		for i, s := range e.RunContext.Options.Scripts {
			vals[i] = cty.StringVal(s)
		}
		scripts = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"skipbackup":  cty.BoolVal(e.RunContext.Options.SkipBackup),
		"stop":        cty.BoolVal(e.RunContext.Options.Stop),
		"resetpwdb":   cty.BoolVal(e.RunContext.Options.ResetPwDB),
		"skipscripts": cty.BoolVal(e.RunContext.Options.SkipScripts),
		"scripts":     scripts,
		"nohealth":    cty.BoolVal(e.RunContext.Options.NoHealth),
	})
}

func (e *EvalScope) stageValue() cty.Value {
	stages := map[string]cty.Value{}
	if e.Pipeline != nil {
		for _, s := range e.Pipeline.Stages {
			stages[s.Name] = e.oneStageValue(s.Name)
		}
	}
	for name := range e.Pending {
		stages[name] = e.oneStageValue(name)
	}
	for name := range e.Outputs {
		stages[name] = e.oneStageValue(name)
	}
	return cty.ObjectVal(stages)
}

// oneStageValue is stage.<name>: its declared outputs once it ran, unknown
// while it is pending, null when it did not run.
func (e *EvalScope) oneStageValue(name string) cty.Value {
	outs, declared := e.Declared[name]
	ran, didRun := e.Outputs[name]
	switch {
	case didRun && declared:
		return outputsValue(outs, ran, func(out, value string) {
			if e.BadOutput != nil {
				e.BadOutput(name, out, value)
			}
		})
	case didRun:
		vals := map[string]cty.Value{}
		for k, v := range ran {
			vals[k] = cty.StringVal(v)
		}
		return cty.ObjectVal(vals)
	case e.Pending[name] && declared:
		return cty.UnknownVal(outputsType(outs))
	case e.Pending[name]:
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
