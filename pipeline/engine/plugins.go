package engine

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/pipeline"
)

// preparePlugins starts one process per plugin the pipeline uses (inside the
// run's cgroup), checks each serves its stages' kinds, decodes every stage
// body with its plugin's schema and lets the plugin validate it (checkStages).
func (r *run) preparePlugins(ctx context.Context) error {
	// A recovery launches the files its run recorded, each pinned to the
	// SHA-256 it had then: the pins were checked by that run.
	if r.pipeline.RecordedPlugins == nil {
		if err := checkRequiredPlugins(r.host, r.pipeline); err != nil {
			return refusedBecause(ReasonPipelineInvalid, "%v", err)
		}
	}
	socketDir := r.host.Path("/run/reinstall/plugins")
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return refused("plugin socket directory: %v", err)
	}
	if err := r.startLauncher(socketDir); err != nil {
		return err
	}
	r.launchAll(ctx)
	checked, diags, err := checkStages(ctx, r.pipeline, r.stagePlugin, r.scope(true))
	if err != nil {
		return err
	}
	for _, c := range checked {
		r.stages = append(r.stages, c.run)
	}
	if diags.HasErrors() {
		return diagsError(diags, r.pipeline.Filename, r.pipeline.Source)
	}
	return nil
}

// startLauncher prepares the run's plugin launcher and cgroup; validate and
// plan use it too, with their own socket directory.
func (r *run) startLauncher(socketDir string) error {
	cg, err := newRunCgroup(r.runID)
	if err != nil {
		r.o.Logger.Warn("no per-run cgroup; plugins are tracked by process group only", "error", err)
	} else {
		r.cgroup = cg
	}
	r.launcher = &pluginhost.Launcher{
		Logger:    r.o.Logger.Named("plugin"),
		LogFile:   named(r.o.LogFile, "plugin"),
		SocketDir: socketDir,
		SelfExe:   r.o.SelfExe,
		Env:       append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, faultEnv()...),
	}
	if r.cgroup != nil {
		r.launcher.CgroupDir = r.cgroup.dir
	}
	return nil
}

// plugin returns the run's plugin of a stage: for a plugin set's component
// ("acme.backup"), a view of the set binary's one process.
func (r *run) plugin(ctx context.Context, name string) (*pluginhost.Plugin, error) {
	bin, component := pipeline.PluginBinary(name)
	p, err := r.pluginProcess(ctx, bin)
	if err != nil || component == "" {
		return p, err
	}
	return p.Component(component), nil
}

// pluginBinary is the binary (the process) serving a stage's plugin.
func pluginBinary(name string) string {
	bin, _ := pipeline.PluginBinary(name)
	return bin
}

// pluginProcess returns the run's process for a plugin binary, starting it
// on first use (or again, if it died): a built-in, else the discovered
// external plugin, checked against its required_plugins pin before it starts.
func (r *run) pluginProcess(ctx context.Context, name string) (*pluginhost.Plugin, error) {
	if p, ok := r.plugins[name]; ok && p.Alive() {
		return p, nil
	}
	old, relaunch := r.plugins[name]
	if relaunch {
		old.Close()
	}
	spec, err := pluginSpec(r.host, r.pipeline, name)
	if err != nil {
		return nil, err
	}
	if spec.Path != "" && spec.SHA256 == "" && !relaunch {
		r.o.Logger.Warn("external plugin is not pinned; pin it in the pipeline's required_plugins block",
			"plugin", name, "path", spec.Path)
	}
	p, err := r.launcher.Launch(ctx, spec, r.services())
	if err != nil {
		return nil, err // pluginhost's errors name the plugin
	}
	r.plugins[name] = p
	return p, nil
}

// named is l.Named(name), or nil for a nil logger.
func named(l hclog.Logger, name string) hclog.Logger {
	if l == nil {
		return nil
	}
	return l.Named(name)
}
