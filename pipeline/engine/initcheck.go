package engine

import (
	"fmt"
	"os"
	"slices"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
)

// checkNewInit runs before a swap stage that a start stage follows: the new
// area's init (the container's INIT, /sbin/init by default), resolved as
// the container would, must be an executable file. A template without one,
// or a vps.reinstall that left none, is refused there, before the running
// container is stopped and the areas exchanged, rather than found by a
// start that fails after the swap and rolls it back.
func (r *run) checkNewInit(i int) error {
	if r.stages[i].stage.Kind != pipeline.KindSwap ||
		!slices.ContainsFunc(r.stages[i+1:], func(sr *stageRun) bool { return sr.stage.Kind == pipeline.KindStart }) {
		return nil
	}
	area := r.rc.PrivateTmp
	if _, err := os.Lstat(area); err != nil {
		return nil // no new area: the swap stage says so
	}
	init := r.ct.Init
	if init == "" {
		init = vz.DefaultInit
	}
	exists, _, executable, err := safefs.ProbeInRoot(area, init)
	if err != nil {
		return fmt.Errorf("check the new area's init: %w", err)
	}
	if executable {
		return nil
	}
	what := "has no " + init
	if exists {
		what = "has " + init + ", but it is not an executable file"
	}
	untouched := "the container was not touched"
	if r.wasRunning {
		untouched = "the running container was not stopped"
	}
	return fmt.Errorf("the new private area %s (the container's init, INIT): it could not start; %s", what, untouched)
}
