package pipeline

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// evalScope is what expressions in a pipeline can read: ct.*, opts.*,
// stage.<name>.* and var.*.
type evalScope struct {
	rc      sdk.RunContext
	vars    map[string]cty.Value
	outputs map[string]map[string]string // stages that ran
	pending map[string]bool              // stages whose outputs are not known yet
}

func (e *evalScope) context() *hcl.EvalContext {
	cfg := map[string]cty.Value{}
	for k, v := range e.rc.Config {
		cfg[k] = cty.StringVal(v)
	}
	cfgVal := cty.MapValEmpty(cty.String)
	if len(cfg) > 0 {
		cfgVal = cty.MapVal(cfg)
	}
	ct := cty.ObjectVal(map[string]cty.Value{
		"id":          cty.NumberIntVal(int64(e.rc.CTID)),
		"name":        cty.StringVal(e.rc.CTName),
		"private":     cty.StringVal(e.rc.Private),
		"private_tmp": cty.StringVal(e.rc.PrivateTmp),
		"root":        cty.StringVal(e.rc.VERoot),
		"ostemplate":  cty.StringVal(e.rc.OSTemplate),
		"hostname":    cty.StringVal(e.rc.Hostname),
		"config":      cfgVal,
	})
	opts := cty.ObjectVal(map[string]cty.Value{
		"skipbackup": cty.BoolVal(e.rc.Options.SkipBackup),
		"stop":       cty.BoolVal(e.rc.Options.Stop),
	})
	stages := map[string]cty.Value{}
	for name := range e.pending {
		stages[name] = cty.DynamicVal
	}
	for name, outs := range e.outputs {
		vals := map[string]cty.Value{}
		for k, v := range outs {
			vals[k] = cty.StringVal(v)
		}
		stages[name] = cty.ObjectVal(vals)
	}
	vars := e.vars
	if vars == nil {
		vars = map[string]cty.Value{}
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"ct":    ct,
			"opts":  opts,
			"stage": cty.ObjectVal(stages),
			"var":   cty.ObjectVal(vars),
		},
		Functions: functions(),
	}
}
