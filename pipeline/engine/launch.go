package engine

import (
	"context"
	"slices"
	"sync"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
)

// launchAll starts every plugin the pipeline uses at once: a launch is
// mostly waiting (process start, key generation, handshake), so starting
// them side by side takes about as long as starting one. It only saves
// time: a plugin that cannot be resolved or started is left for r.plugin,
// which reports the problem where the stage that uses it is checked.
func (r *run) launchAll(ctx context.Context) {
	var names []string // one process per binary, whatever its components
	for _, name := range r.pipeline.Plugins() {
		if bin := pluginBinary(name); !slices.Contains(names, bin) {
			names = append(names, bin)
		}
	}
	launched := make([]*pluginhost.Plugin, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if _, ok := r.plugins[name]; ok {
			continue
		}
		spec, err := pluginSpec(r.host, r.pipeline, name)
		if err != nil {
			continue
		}
		if spec.Path != "" && spec.SHA256 == "" {
			r.o.Logger.Warn("external plugin is not pinned; pin it in the pipeline's required_plugins block",
				"plugin", name, "path", spec.Path)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			launched[i], _ = r.launcher.Launch(ctx, spec, r.services())
		}()
	}
	wg.Wait()
	for i, p := range launched {
		if p != nil {
			r.plugins[names[i]] = p
		}
	}
}
