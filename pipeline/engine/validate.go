package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/redact"
	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Validation is the outcome of checking a pipeline.
type Validation struct {
	Filename string
	// Pipeline is nil when the file does not load.
	Pipeline *pipeline.Pipeline
	Diags    hcl.Diagnostics
	// Sources maps the files diagnostics point into to their content.
	Sources map[string][]byte
}

// Valid reports whether no diagnostic is an error.
func (v *Validation) Valid() bool { return !v.Diags.HasErrors() }

// Validate checks a pipeline (--pipeline FILE, else the site file, else the
// embedded default) the way a run does, without a container: every plugin
// is started for its schema and its own checks, ct.* and opts.* are not
// known, and neither are variables without a value. The error is for what
// is not the pipeline's fault (a plugin that crashes).
func Validate(ctx context.Context, o Options) (*Validation, error) {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	v := loadForCheck(o, true)
	if !v.Valid() {
		return v, nil
	}
	r, cleanup, err := startCheckRun(o, v.Pipeline)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := checkRequiredPlugins(r.host, r.pipeline); err != nil {
		v.Diags = append(v.Diags, requiredPluginsDiag(v.Pipeline, err))
		return v, nil
	}
	scope := &pipeline.EvalScope{Pipeline: v.Pipeline, NoContainer: true, Pending: allStages(v.Pipeline), Secrets: r.secrets}
	_, diags, err := checkStages(ctx, v.Pipeline, r.stagePlugin, scope)
	if err != nil {
		return nil, err
	}
	v.Diags = append(v.Diags, diags...)
	return v, nil
}

// loadForCheck reads, loads and assigns the variables of the pipeline o
// names; lenient leaves required variables without a value unknown.
func loadForCheck(o Options, lenient bool) *Validation {
	filename, src, err := pipelineSource(o)
	v := &Validation{Filename: filename, Sources: map[string][]byte{}}
	if err != nil {
		v.Diags = hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read pipeline file",
			Detail:   err.Error(),
			Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
		return v
	}
	v.Sources[filename] = src
	p, diags := pipeline.Load(filename, src)
	v.Diags = diags
	if p == nil {
		return v
	}
	v.Pipeline = p
	v.Diags = append(v.Diags, p.AssignVariables(pipeline.VarInputs{Environ: os.Environ(), Files: o.VarFiles, Vars: o.Vars, Lenient: lenient})...)
	v.Sources = p.Sources
	return v
}

// pipelineSource picks --pipeline FILE, else the site file (under --root)
// if present, else the embedded default.
func pipelineSource(o Options) (string, []byte, error) {
	filename := o.PipelineFile
	if filename == "" && o.Host != nil {
		if site := o.Host.Path(SitePipeline); fileExists(site) {
			src, err := vz.ReadConfigFile(site) // a FIFO is refused, never waited on
			return site, src, err
		}
	}
	if filename == "" {
		return pipeline.DefaultFilename, pipeline.DefaultSource, nil
	}
	src, err := os.ReadFile(filename)
	return filename, src, err
}

// startCheckRun prepares a run that only starts plugins: no container, no
// lock, no journal, sockets in a temporary directory (so that nothing under
// --root changes), and a cgroup of its own.
func startCheckRun(o Options, p *pipeline.Pipeline) (*run, func(), error) {
	socketDir, err := os.MkdirTemp("", "ri-")
	if err != nil {
		return nil, nil, fmt.Errorf("plugin socket directory: %w", err)
	}
	// Plugins get host services that refuse everything: checking a
	// pipeline touches no container and no file.
	o.Runtime = noRuntime{}
	o.Events = func(Event) {}
	r := &run{o: o, host: o.Host, pipeline: p, runID: newRunID(), plugins: map[string]*pluginhost.Plugin{}, secrets: secretsOf(o)}
	cleanup := func() {
		r.close()
		os.RemoveAll(socketDir)
	}
	if err := r.startLauncher(socketDir); err != nil {
		cleanup()
		return nil, nil, err
	}
	return r, cleanup, nil
}

// noRuntime is the container runtime of a run that only checks a pipeline.
type noRuntime struct{}

var errNoRuntime = errors.New("no container while a pipeline is being checked")

func (noRuntime) Start(context.Context, runtime.Spec) error          { return errNoRuntime }
func (noRuntime) Stop(context.Context, int, time.Duration) error     { return errNoRuntime }
func (noRuntime) Status(context.Context, int) (runtime.State, error) { return "", errNoRuntime }
func (noRuntime) Exec(context.Context, int, runtime.ExecRequest) (int, error) {
	return -1, errNoRuntime
}
func (noRuntime) List(context.Context) ([]runtime.Info, error) { return nil, errNoRuntime }
func (noRuntime) ListeningPorts(context.Context, int) ([]int, error) {
	return nil, errNoRuntime
}

// stagePlugin is what checking a stage needs of a plugin process.
type stagePlugin interface {
	Info(ctx context.Context) (pluginhost.Info, error)
	Schema(ctx context.Context, kind string) (sdk.Schema, error)
	Validate(ctx context.Context, kind string, configJSON []byte, unknown []string) (sdk.Diagnostics, error)
}

// stagePlugin starts (or reuses) the run's process for a plugin.
func (r *run) stagePlugin(ctx context.Context, name string) (stagePlugin, error) {
	p, err := r.plugin(ctx, name)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// checkedStage is a stage checked against its plugin before the run.
type checkedStage struct {
	run *stageRun // the decoding spec and sensitive attributes, for the runner
	// config is the body decoded with what is known before the run; the
	// attributes in unknown are not known yet. Both are nil when the body
	// has errors.
	config  []byte
	unknown []string
	// derived names the attributes computed from sensitive variables.
	derived []string
	// when and whenKnown are the when expression's value before the run.
	when, whenKnown bool
}

// checkStages asks each stage's plugin for its schema, decodes the body
// with it, evaluates when, and lets the plugin validate the body. Language
// problems are diagnostics; the error is for a plugin that fails to answer.
func checkStages(ctx context.Context, p *pipeline.Pipeline, launch func(context.Context, string) (stagePlugin, error), scope *pipeline.EvalScope) ([]*checkedStage, hcl.Diagnostics, error) {
	checked, pls, diags, err := stageSchemas(ctx, p, launch)
	if err != nil {
		return nil, nil, err
	}
	scope.Declared = map[string][]sdk.Output{}
	for _, cs := range checked {
		if cs.run.declared != nil {
			scope.Declared[cs.run.stage.Name] = cs.run.declared
		}
	}
	if od := p.CheckOutputReads(scope.Declared); od.HasErrors() {
		return checked, dedupe(append(diags, od...)), nil
	}
	// Diagnostics may quote values (a function's error, a plugin's
	// message): sensitive ones are hidden.
	secrets := scope.Secrets
	if secrets == nil {
		secrets = &redact.Secrets{}
	}
	secrets.Add(p.SensitiveValues()...)
	ectx, ld := scope.ContextWithLocals()
	diags = append(diags, ld...)
	for i, cs := range checked {
		s, pl := cs.run.stage, pls[i]
		if pl == nil {
			continue
		}
		if refs := p.CheckReferences(hcldec.Variables(s.Body, cs.run.spec), i); refs.HasErrors() {
			diags = append(diags, refs...)
			continue
		}
		dec, d := pipeline.DecodeBody(s, cs.run.spec, ectx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		cs.config, cs.unknown, cs.derived = dec.Config, dec.Unknown, dec.Derived
		secrets.Add(dec.Secrets...)
		secrets.Add(pipeline.ConfigStrings(dec.Config, cs.run.sensitive)...)
		var wd hcl.Diagnostics
		cs.when, cs.whenKnown, wd = pipeline.EvalWhen(s, ectx)
		diags = append(diags, wd...)
		// The plugin checks neither sensitive attributes nor values
		// derived from sensitive variables: they are unknown to it.
		hidden := pipeline.Union(cs.run.sensitive, dec.Derived)
		pd, err := pl.Validate(ctx, s.Kind, pipeline.WithoutSensitive(dec.Config, hidden), pipeline.WithSensitiveUnknown(dec.Unknown, hidden))
		if err != nil {
			return nil, nil, &Error{Code: ExitRefused, Stage: s.Name, Err: secrets.Error(err)}
		}
		diags = append(diags, pipeline.PluginDiagnostics(s, pd)...)
	}
	return checked, pipeline.RedactDiags(secrets, dedupe(diags)), nil
}

// stageSchemas starts each stage's plugin, checks it serves the stage's
// kind and reads its schema: the spec the body decodes with, the sensitive
// attributes and the declared outputs. The plugin of a stage that failed
// these checks is nil.
func stageSchemas(ctx context.Context, p *pipeline.Pipeline, launch func(context.Context, string) (stagePlugin, error)) ([]*checkedStage, []stagePlugin, hcl.Diagnostics, error) {
	var diags hcl.Diagnostics
	var checked []*checkedStage
	pls := make([]stagePlugin, len(p.Stages))
	for i, s := range p.Stages {
		cs := &checkedStage{run: &stageRun{stage: s}}
		checked = append(checked, cs)
		pl, err := launch(ctx, s.Plugin)
		if err != nil {
			if slices.Contains(pipeline.BuiltinPlugins, s.Plugin) {
				return nil, nil, nil, &Error{Code: ExitRefused, Stage: s.Name, Err: err}
			}
			diags = append(diags, pluginStartDiag(p, s, err))
			continue
		}
		info, err := pl.Info(ctx)
		if err != nil {
			return nil, nil, nil, &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		if !slices.Contains(info.Kinds, s.Kind) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Plugin does not serve this stage kind",
				Detail:   fmt.Sprintf("Plugin %s serves %s stages, not %s (stage %q).", s.Plugin, strings.Join(info.Kinds, ", "), s.Kind, s.Name),
				Subject:  s.PluginRange.Ptr(),
			})
			continue
		}
		cs.run.adopt(info)
		schema, err := pl.Schema(ctx, s.Kind)
		if err != nil {
			return nil, nil, nil, &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		cs.run.spec, err = pipeline.StageSpec(s.Plugin, schema)
		if err == nil {
			err = pipeline.CheckOutputDecls(s.Plugin, schema.Outputs)
		}
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin schema",
				Detail:   err.Error() + "; this is a bug in the plugin.",
				Subject:  s.PluginRange.Ptr(),
			})
			continue
		}
		cs.run.declared = append([]sdk.Output{}, schema.Outputs...)
		for _, a := range schema.Attributes {
			if a.Sensitive {
				cs.run.sensitive = append(cs.run.sensitive, a.Name)
			}
		}
		pls[i] = pl
	}
	return checked, pls, diags, nil
}

// pluginStartDiag reports a plugin that is not built in and could not be
// started: usually a name that is neither built in nor installed.
func pluginStartDiag(p *pipeline.Pipeline, s *pipeline.Stage, err error) *hcl.Diagnostic {
	summary := "Cannot start plugin"
	_, pinned := p.RequiredPlugins[s.Plugin]
	if strings.HasPrefix(err.Error(), "no plugin") || errors.Is(err, os.ErrNotExist) && !pinned {
		summary = "Unknown plugin"
	}
	detail := err.Error()
	if !strings.Contains(detail, "did you mean") {
		detail += pipeline.DidYouMean(s.Plugin, pipeline.BuiltinPlugins)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf("Stage %q: %s.", s.Name, strings.TrimSuffix(detail, ".")),
		Subject:  s.PluginRange.Ptr(),
	}
}

// requiredPluginsDiag turns a failed pin check into a diagnostic on the pin.
func requiredPluginsDiag(p *pipeline.Pipeline, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Required plugin not usable", Detail: err.Error()}
	for name, rng := range p.RequiredPluginRanges {
		if strings.Contains(err.Error(), name) {
			d.Subject = rng.Ptr()
		}
	}
	if d.Subject == nil {
		for _, rng := range p.RequiredPluginRanges {
			d.Subject = rng.Ptr()
			break
		}
	}
	return d
}

// allStages marks every stage's outputs as not known yet.
func allStages(p *pipeline.Pipeline) map[string]bool {
	pending := map[string]bool{}
	for _, s := range p.Stages {
		pending[s.Name] = true
	}
	return pending
}

// dedupe drops repeated diagnostics (a failed local read by several stages
// reports its error once) and gives calls to unknown functions the closest
// name (hcl suggests the first near one it meets).
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	seen := map[string]bool{}
	for _, d := range diags {
		var fn string
		if d.Summary == "Call to unknown function" {
			if _, err := fmt.Sscanf(d.Detail, "There is no function named %q", &fn); err == nil {
				d.Detail = fmt.Sprintf("There is no function named %q%s. Functions: %s.", fn, pipeline.DidYouMean(fn, pipeline.FunctionNames()), strings.Join(pipeline.FunctionNames(), ", "))
			}
		}
		key := d.Summary + "\x00" + d.Detail
		if d.Subject != nil {
			key += "\x00" + d.Subject.String()
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, d)
		}
	}
	return out
}
