package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/pipeline"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// RunPlan is what `reinstall CTID` would do, worked out without changing
// anything: the checks of the preflight that change nothing, the pipeline
// checked against its plugins, and each stage's effect.
type RunPlan struct {
	Pipeline     string         `json:"pipeline"`
	File         string         `json:"file"`
	CTID         int            `json:"ctid"`
	Name         string         `json:"name,omitempty"`
	State        string         `json:"state"`
	Runtime      string         `json:"runtime,omitempty"`
	Private      string         `json:"private"`
	OSTemplate   string         `json:"ostemplate"`
	TemplateFile string         `json:"template_file"`
	Options      PlanOptions    `json:"options"`
	Variables    []PlanVariable `json:"variables,omitempty"`
	Stages       []PlanStage    `json:"stages"`
	// Destroyed and Kept say what becomes of the old private area.
	Destroyed []string `json:"destroyed"`
	Kept      []string `json:"kept"`
	// ConfigOSTemplate is the config's OSTEMPLATE when --ostemplate names
	// another template: the run replaces it once past the point of no return.
	ConfigOSTemplate string `json:"config_ostemplate,omitempty"`
}

// PlanOptions are the run's options as the plan assumed them.
type PlanOptions struct {
	SkipBackup  bool     `json:"skipbackup"`
	Stop        bool     `json:"stop"`
	ResetPwDB   bool     `json:"resetpwdb"`
	SkipScripts bool     `json:"skipscripts"`
	Scripts     []string `json:"scripts,omitempty"`
	NoHealth    bool     `json:"nohealth"`
}

// PlanVariable is an input variable's value ("(sensitive)" if it is).
type PlanVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Whether a stage will run.
const (
	PlanRun     = "run"
	PlanSkip    = "skip"
	PlanDepends = "depends"
)

// PlanStage is one stage of the plan.
type PlanStage struct {
	Index  int    `json:"index"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Plugin string `json:"plugin"`
	// Run is "run", "skip" (when is false) or "depends" (when reads outputs
	// of DependsOn, known only during the run).
	Run       string   `json:"run"`
	Status    string   `json:"status"` // in words: will run, skipped (when is false), depends on <stage>
	DependsOn []string `json:"depends_on,omitempty"`
	When      string   `json:"when,omitempty"`
	Timeout   string   `json:"timeout"`
	OnFailure string   `json:"on_failure"`
	// Config holds the plugin-owned attributes as JSON values; unknown ones
	// are "(known during the run)", sensitive ones "(sensitive)".
	Config  map[string]string `json:"config,omitempty"`
	Creates []string          `json:"creates,omitempty"`
	Actions []string          `json:"actions,omitempty"`
}

// Plan works out what a reinstall with o would do. It takes no lock and
// changes nothing (plugins are started with their sockets outside --root);
// what would refuse the reinstall is returned as the same *Error.
func Plan(ctx context.Context, o Options) (*RunPlan, error) {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	ctid, name, err := o.Host.Resolve(o.Target)
	if err != nil {
		return nil, refused("%v", err)
	}
	if err := checkNoJournal(o.Host, ctid); err != nil {
		return nil, err
	}
	p, err := loadPipeline(o)
	if err != nil {
		return nil, err
	}
	if err := useRuntime(&o, p); err != nil {
		return nil, refused("container runtime: %v", err)
	}
	c, err := checkContainer(ctx, o, ctid, name)
	if err != nil {
		return nil, err
	}
	ct, tmpl, name := c.ct, c.template, c.name
	state := runtime.Stopped
	if c.running {
		state = runtime.Running
	}
	rc := c.runContext(o, "<run id>", ct.Private+".trash-<run id>")
	r, cleanup, err := startCheckRun(o, p)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := checkRequiredPlugins(r.host, p); err != nil {
		return nil, refused("%v", err)
	}
	scope := &pipeline.EvalScope{RunContext: rc, Pipeline: p, Outputs: map[string]map[string]string{}, Pending: allStages(p), Secrets: r.secrets}
	checked, diags, err := checkStages(ctx, p, r.stagePlugin, scope)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: fmt.Errorf("%s", pipeline.FirstError(diags)), Diags: diags, Sources: p.Sources}
	}
	plan := &RunPlan{
		Pipeline: p.Name, File: p.Filename, CTID: ctidOf(ct), Name: name, State: string(state), Runtime: o.RuntimeName,
		Private: ct.Private, OSTemplate: c.ostemplate, TemplateFile: tmpl,
		Options: PlanOptions{SkipBackup: o.SkipBackup, Stop: o.Stop, ResetPwDB: o.ResetPwDB, SkipScripts: o.SkipScripts, Scripts: o.Scripts, NoHealth: o.NoHealth},
	}
	if c.ostemplate != ct.OSTemplate {
		plan.ConfigOSTemplate = ct.OSTemplate
	}
	for _, v := range p.Variables {
		plan.Variables = append(plan.Variables, PlanVariable{Name: v.Name, Value: planVariableValue(p, v)})
	}
	for i, cs := range checked {
		ps := planStage(p, i, cs, rc, state == runtime.Running)
		if err := r.describe(ctx, p, i, cs, rc, state == runtime.Running, &ps); err != nil {
			return nil, &Error{Code: ExitRefused, Stage: cs.run.stage.Name, Err: err}
		}
		plan.Stages = append(plan.Stages, ps)
	}
	plan.fate(p, rc)
	return plan, nil
}

// planStage describes one checked stage.
func planStage(p *pipeline.Pipeline, i int, cs *checkedStage, rc sdk.RunContext, running bool) PlanStage {
	s := cs.run.stage
	ps := PlanStage{Index: i + 1, Name: s.Name, Kind: s.Kind, Plugin: s.Plugin, OnFailure: s.OnFailure, Timeout: "none"}
	if t := cs.run.timeout(); t > 0 {
		ps.Timeout = t.String()
	}
	if s.When != nil {
		ps.When = strings.TrimSpace(string(s.When.Range().SliceBytes(p.Source)))
	}
	switch {
	case s.When == nil || cs.whenKnown && cs.when:
		ps.Run, ps.Status = PlanRun, "will run"
	case cs.whenKnown:
		ps.Run, ps.Status = PlanSkip, "skipped (when is false)"
	default:
		ps.Run = PlanDepends
		ps.DependsOn = p.StageDependencies(s.When)
		ps.Status = "depends on " + strings.Join(ps.DependsOn, ", ")
		if len(ps.DependsOn) == 0 {
			ps.Status = "depends on values known only during the run"
		}
	}
	cfg := map[string]json.RawMessage{}
	_ = json.Unmarshal(cs.config, &cfg)
	if len(cfg) > 0 {
		ps.Config = map[string]string{}
	}
	for k, v := range cfg {
		switch {
		case string(v) == "null" && !slices.Contains(cs.unknown, k):
			continue // not set
		case slices.Contains(cs.run.sensitive, k) || slices.Contains(cs.derived, k):
			ps.Config[k] = "(sensitive)"
			cfg[k] = json.RawMessage(`"(sensitive)"`)
		case slices.Contains(cs.unknown, k):
			ps.Config[k] = "(known during the run)"
		default:
			ps.Config[k] = string(v)
		}
	}
	return ps
}

// fate says what becomes of the old private area (contract §2.3, §2.6).
func (plan *RunPlan) fate(p *pipeline.Pipeline, rc sdk.RunContext) {
	old := filepath.Join(rc.Private, "old")
	var retention *PlanStage
	for i := range plan.Stages {
		if plan.Stages[i].Kind == pipeline.KindBackupRetention && retention == nil {
			retention = &plan.Stages[i]
		}
	}
	plan.Destroyed, plan.Kept = []string{}, []string{}
	switch {
	case !rc.Options.SkipBackup:
		plan.Kept = append(plan.Kept, fmt.Sprintf("the old private area %s → %s (/old inside the container), for good", rc.Private, old))
	case retention != nil:
		what := fmt.Sprintf("the old private area %s: deleted by stage %q once the new container runs (until then configure stages see it at /old)", rc.Private, retention.Name)
		if retention.Run != PlanRun {
			what += "; that stage " + retention.Status
		}
		plan.Destroyed = append(plan.Destroyed, what)
	default:
		plan.Kept = append(plan.Kept, fmt.Sprintf("the old private area at %s or %s: no backup-retention stage deletes it", old, rc.PrivatePrevious))
	}
}

func planVariableValue(p *pipeline.Pipeline, v *pipeline.Variable) string {
	if v.Sensitive {
		return "(sensitive)"
	}
	val, ok := p.VariableValue(v.Name)
	if !ok || !val.IsWhollyKnown() {
		return "(not known)"
	}
	return renderValue(val)
}

// renderValue writes a known value as JSON.
func renderValue(v cty.Value) string {
	out, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(out)
}
