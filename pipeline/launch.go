package pipeline

import (
	"context"
	"errors"
	"sync"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
)

// launchAll starts every plugin the pipeline uses at once: a launch is
// mostly waiting (process start, key generation, handshake), so starting
// them side by side takes about as long as starting one.
func (r *run) launchAll(ctx context.Context) error {
	names := r.pipeline.Plugins()
	launched := make([]*pluginhost.Plugin, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if _, ok := r.plugins[name]; ok {
			continue
		}
		spec, err := pluginSpec(r.host, r.pipeline, name)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			launched[i], errs[i] = r.launcher.Launch(ctx, spec, &services{r: r})
		}()
	}
	wg.Wait()
	for i, p := range launched {
		if p != nil {
			r.plugins[names[i]] = p
		}
	}
	return errors.Join(errs...)
}
