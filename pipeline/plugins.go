package pipeline

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
)

// preparePlugins starts one process per plugin the pipeline uses (inside the
// run's cgroup), checks each serves its stages' kinds, decodes every stage
// body with its plugin's schema and lets the plugin validate it.
func (r *run) preparePlugins(ctx context.Context) error {
	socketDir := r.host.Path("/run/reinstall/plugins")
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return refused("plugin socket directory: %v", err)
	}
	cg, err := newRunCgroup(r.runID)
	if err != nil {
		r.o.Logger.Warn("no per-run cgroup; plugins are tracked by process group only", "error", err)
	} else {
		r.cgroup = cg
	}
	r.launcher = &pluginhost.Launcher{
		Logger:    r.o.Logger.Named("plugin"),
		SocketDir: socketDir,
		SelfExe:   r.o.SelfExe,
	}
	if r.cgroup != nil {
		r.launcher.CgroupDir = r.cgroup.dir
	}
	var diags hcl.Diagnostics
	scope := r.scope(true)
	for _, s := range r.pipeline.Stages {
		sr := &stageRun{stage: s}
		r.stages = append(r.stages, sr)
		p, err := r.plugin(ctx, s.Plugin)
		if err != nil {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		info, err := p.Info(ctx)
		if err != nil {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		if !slices.Contains(info.Kinds, s.Kind) {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: fmt.Errorf(
				"plugin %s does not serve %s stages (it serves %v)", s.Plugin, s.Kind, info.Kinds)}
		}
		schema, err := p.Schema(ctx, s.Kind)
		if err != nil {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		if sr.spec, err = stageSpec(s.Plugin, schema); err != nil {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		for _, a := range schema.Attributes {
			if a.Sensitive {
				sr.sensitive = append(sr.sensitive, a.Name)
			}
		}
		config, unknown, d := decodeBody(s, sr.spec, scope.context())
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if s.When != nil {
			_, _, wd := evalWhen(s, scope.context())
			diags = append(diags, wd...)
		}
		pd, err := p.Validate(ctx, s.Kind, config, unknown)
		if err != nil {
			return &Error{Code: ExitRefused, Stage: s.Name, Err: err}
		}
		diags = append(diags, pluginDiagnostics(s, pd)...)
	}
	if diags.HasErrors() {
		return diagsError(diags, r.pipeline.Filename, r.pipeline.Source)
	}
	return nil
}

// plugin returns the run's process for a plugin, starting it on first use
// (or again, if it died).
func (r *run) plugin(ctx context.Context, name string) (*pluginhost.Plugin, error) {
	if p, ok := r.plugins[name]; ok && p.Alive() {
		return p, nil
	}
	if old, ok := r.plugins[name]; ok {
		old.Close()
	}
	p, err := r.launcher.Launch(ctx, pluginhost.Spec{Name: name}, &services{r: r})
	if err != nil {
		return nil, fmt.Errorf("start plugin %s: %w", name, err)
	}
	r.plugins[name] = p
	return p, nil
}
