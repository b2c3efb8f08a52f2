package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reinstall-dev/reinstall/internal/runtime"
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
	scope := &evalScope{rc: rc, pipeline: p, outputs: map[string]map[string]string{}, pending: allStages(p), secrets: r.secrets}
	checked, diags, err := checkStages(ctx, p, r.stagePlugin, scope)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: fmt.Errorf("%s", firstError(diags)), Diags: diags, Sources: p.sources}
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
		plan.Stages = append(plan.Stages, planStage(p, i, cs, rc, state == runtime.Running))
	}
	plan.fate(p, rc)
	return plan, nil
}

// planStage describes one checked stage.
func planStage(p *Pipeline, i int, cs *checkedStage, rc sdk.RunContext, running bool) PlanStage {
	s := cs.run.stage
	ps := PlanStage{Index: i + 1, Name: s.Name, Kind: s.Kind, Plugin: s.Plugin, OnFailure: s.OnFailure, Timeout: "none"}
	if t := stageTimeout(s); t > 0 {
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
	describeStage(p, i, &ps, cfg, rc, running)
	return ps
}

// describeStage fills what a stage creates and does. The host knows the
// kinds' contract and its built-in plugins; of another plugin it says
// only that it runs.
func describeStage(p *Pipeline, i int, ps *PlanStage, cfg map[string]json.RawMessage, rc sdk.RunContext, running bool) {
	s := p.Stages[i]
	builtin := s.Plugin == BuiltinPlugin[s.Kind] || slices.Contains([]string{"copy-from-old", "credentials", "reinstall-scripts"}, s.Plugin)
	if !builtin {
		ps.Actions = append(ps.Actions, "runs in plugin "+s.Plugin)
	}
	switch s.Kind {
	case KindProvision:
		ps.Creates = append(ps.Creates, rc.PrivateTmp)
		if builtin {
			ps.Actions = append(ps.Actions, fmt.Sprintf("unpacks %s into %s (numeric owners, modes, xattrs, hard links, device nodes)", rc.TemplateFile, rc.PrivateTmp))
		}
	case KindReinstallHook:
		if !p.hasBefore(i, KindProvision) {
			ps.Creates = append(ps.Creates, rc.PrivateTmp+" (empty, for the hook to fill)")
		}
		if script, ok := stringConfig(cfg, "script"); ok && s.Plugin == "script" {
			host := rc.HostPath(script)
			if !fileExists(host) {
				ps.Actions = append(ps.Actions, host+" does not exist: nothing runs and the mode is \"default\"")
				break
			}
			again := "discards it and provisions again"
			if !p.hasBefore(i, KindProvision) {
				again = "empties it again"
			}
			ps.Actions = append(ps.Actions,
				fmt.Sprintf("runs %s --veid %d --ve_private_tmp %s --ve_private %s on the host", host, rc.CTID, rc.PrivateTmp, rc.Private),
				"exit 0 keeps its temporary area (mode \"custom\"); exit 128 "+again+" (mode \"default\")")
		}
	case KindSwap:
		if running && rc.Options.Stop {
			ps.Actions = append(ps.Actions, "stops the running container right before the exchange")
		}
		ps.Actions = append(ps.Actions, fmt.Sprintf("exchanges %s and %s in one renameat2(RENAME_EXCHANGE)", rc.Private, rc.PrivateTmp))
		old := filepath.Join(rc.Private, "old")
		switch {
		case !rc.Options.SkipBackup:
			ps.Creates = append(ps.Creates, old)
			ps.Actions = append(ps.Actions, "moves the old private area to "+old+" (/old inside the container)")
		case p.hasBefore(i, KindReinstallHook):
			ps.Creates = append(ps.Creates, old+" (mode \"custom\")", rc.PrivatePrevious+" (mode \"default\")")
			ps.Actions = append(ps.Actions, "moves the old private area to "+old+" in mode \"custom\", parks it at "+rc.PrivatePrevious+" in mode \"default\"")
		default:
			ps.Creates = append(ps.Creates, rc.PrivatePrevious)
			ps.Actions = append(ps.Actions, "parks the old private area at "+rc.PrivatePrevious)
		}
	case KindStart:
		ps.Actions = append(ps.Actions, fmt.Sprintf("starts the container from %s (hostname %q)", rc.Private, rc.Hostname))
	case KindConfigure:
		describeConfigure(s, ps, cfg, rc)
	case KindBackupRetention:
		if rc.Options.SkipBackup {
			ps.Creates = append(ps.Creates, rc.Trash+" (while deleting)")
			ps.Actions = append(ps.Actions, "deletes the old private area: renamed to the trash, then removed without following symlinks")
		} else {
			ps.Actions = append(ps.Actions, "keeps the old private area at "+filepath.Join(rc.Private, "old"))
		}
	}
}

func describeConfigure(s *Stage, ps *PlanStage, cfg map[string]json.RawMessage, rc sdk.RunContext) {
	switch s.Plugin {
	case "script":
		script, ok := stringConfig(cfg, "script")
		if !ok {
			return
		}
		host := rc.HostPath(script)
		if !fileExists(host) {
			ps.Actions = append(ps.Actions, host+" does not exist: nothing runs")
			return
		}
		ps.Actions = append(ps.Actions, "feeds "+host+" to /bin/bash (or /bin/sh) inside the running container, /old visible")
	case "copy-from-old":
		var paths []string
		if err := json.Unmarshal(cfg["paths"], &paths); err != nil {
			return
		}
		for _, path := range paths {
			ps.Creates = append(ps.Creates, filepath.Join(rc.Private, path))
			ps.Actions = append(ps.Actions, "copies "+path+" from the old private area (owners and modes kept, symlinks copied as links)")
		}
	case "credentials":
		if rc.Options.ResetPwDB {
			ps.Actions = append(ps.Actions, "--resetpwdb: keeps the template's accounts")
			return
		}
		ps.Actions = append(ps.Actions, "merges the old /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow into the new container's")
	case "reinstall-scripts":
		hooks := "the host's " + rc.HostPath("/etc/vz/reinstall.d") + "/*.sh hooks"
		switch {
		case rc.Options.SkipScripts:
			ps.Actions = append(ps.Actions, "--skipscripts: runs no hook")
			return
		case len(rc.Options.Scripts) > 0:
			hooks = "the hooks named by --scripts (" + strings.Join(rc.Options.Scripts, ", ") + "), the old container's own first"
		}
		ps.Actions = append(ps.Actions, "feeds "+hooks+" to /bin/bash (or /bin/sh) inside the running container, REINSTALL_DATA_ROOT=/old")
	case "health":
		ps.Actions = append(ps.Actions, describeHealth(cfg))
	}
}

// describeHealth says what the health stage waits for; a failure rolls the
// run back to the old container.
func describeHealth(cfg map[string]json.RawMessage) string {
	var checks []string
	var command []string
	if json.Unmarshal(cfg["command"], &command) == nil && len(command) > 0 {
		checks = append(checks, "the command "+strings.Join(command, " ")+" exits 0")
	}
	var ports []int
	if json.Unmarshal(cfg["tcp"], &ports) == nil && len(ports) > 0 {
		s := make([]string, len(ports))
		for i, p := range ports {
			s[i] = strconv.Itoa(p)
		}
		checks = append(checks, "TCP ports "+strings.Join(s, ", ")+" listen")
	}
	if systemd, _ := stringConfig(cfg, "systemd"); systemd == "auto" {
		allowed := ""
		var degraded bool
		if json.Unmarshal(cfg["allow_degraded"], &degraded) == nil && degraded {
			allowed = " (or degraded)"
		}
		checks = append(checks, "systemd is running"+allowed+" if the new init is systemd")
	}
	if len(checks) == 0 {
		return "checks nothing"
	}
	wait, ok := stringConfig(cfg, "wait")
	if !ok || wait == "" {
		wait = "1m"
	}
	return "waits up to " + wait + " until " + strings.Join(checks, ", ") + "; else rolls back to the old container"
}

// fate says what becomes of the old private area (contract §2.3, §2.6).
func (plan *RunPlan) fate(p *Pipeline, rc sdk.RunContext) {
	old := filepath.Join(rc.Private, "old")
	var retention *PlanStage
	for i := range plan.Stages {
		if plan.Stages[i].Kind == KindBackupRetention && retention == nil {
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

// hasBefore reports whether a stage of kind comes before stage i.
func (p *Pipeline) hasBefore(i int, kind string) bool {
	for _, s := range p.Stages[:i] {
		if s.Kind == kind {
			return true
		}
	}
	return false
}

func planVariableValue(p *Pipeline, v *Variable) string {
	if v.Sensitive {
		return "(sensitive)"
	}
	val, ok := p.VariableValue(v.Name)
	if !ok || !val.IsWhollyKnown() {
		return "(not known)"
	}
	return renderValue(val)
}

func stringConfig(cfg map[string]json.RawMessage, name string) (string, bool) {
	var s string
	if err := json.Unmarshal(cfg[name], &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

// renderValue writes a known value as JSON.
func renderValue(v cty.Value) string {
	out, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(out)
}
