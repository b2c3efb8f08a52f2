package engine

import (
	"context"
	"fmt"
	"sync"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Host services act for the stage that calls them, never for "the stage
// running now": the SDK binds every call to the Run or Rollback call that
// made it (a token issued for that call, dead once it returns), and the
// host serves it as that stage only while the stage's call is in progress.
// A plugin goroutine that outlives its stage cannot read another stage's
// secret or journal under another stage's name.

// stageCalls are the stages whose Run or Rollback is in progress.
type stageCalls struct {
	mu     sync.Mutex
	active map[string]*stageRun
}

// enter marks a stage's call in progress (and the run's current stage)
// until the returned func is called.
func (r *run) enter(sr *stageRun) func() {
	r.calls.mu.Lock()
	if r.calls.active == nil {
		r.calls.active = map[string]*stageRun{}
	}
	r.calls.active[sr.stage.Name] = sr
	r.calls.mu.Unlock()
	r.current = sr
	return func() {
		r.current = nil
		r.calls.mu.Lock()
		delete(r.calls.active, sr.stage.Name)
		r.calls.mu.Unlock()
	}
}

// caller is the stage a host-service call is made by, refused unless that
// stage's call is in progress.
func (r *run) caller(ctx context.Context) (*stageRun, error) {
	name := sdk.CallingStage(ctx)
	r.calls.mu.Lock()
	sr := r.calls.active[name]
	r.calls.mu.Unlock()
	if name == "" || sr == nil {
		return nil, fmt.Errorf("stage %q is not running: host services refuse calls from a stage that has returned", name)
	}
	return sr, nil
}
