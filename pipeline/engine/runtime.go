package engine

import (
	"context"
	"fmt"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// useRuntime gives o its container runtime: the caller's o.Runtime if set,
// else the one --runtime (o.RuntimeName) or the pipeline's runtime setting
// names, "auto" when neither does. o.RuntimeName becomes the concrete name
// (vzctl, prlctl or native), which the journal records.
func useRuntime(o *Options, p *pipeline.Pipeline) error {
	if o.Runtime != nil {
		return nil
	}
	setting := o.RuntimeName
	if setting == "" && p != nil {
		setting = p.Runtime
	}
	if setting == "" {
		setting = runtime.NameAuto
	}
	return newRuntime(o, setting)
}

// useRecordedRuntime gives a recovery the runtime its run recorded, unless
// the caller set o.Runtime; a journal that recorded none leaves the choice to
// --runtime, else "auto".
func (r *run) useRecordedRuntime(hdr *journal.Header) error {
	if r.o.Runtime != nil || hdr.Runtime == "" {
		return useRuntime(&r.o, nil)
	}
	if r.o.RuntimeName != "" && r.o.RuntimeName != hdr.Runtime && r.o.Logger != nil {
		r.o.Logger.Warn("the interrupted run used another runtime; recovering with it", "runtime", hdr.Runtime, "--runtime", r.o.RuntimeName)
	}
	return newRuntime(&r.o, hdr.Runtime)
}

// lockRuntime takes the container manager's own lock on the container as
// well as ours, when it has one (LXC's); close releases it.
func (r *run) lockRuntime(ctx context.Context) error {
	l, ok := r.o.Runtime.(runtime.Locker)
	if !ok {
		return nil
	}
	release, err := l.LockContainer(ctx, r.ctid)
	if err != nil {
		return fmt.Errorf("lock container %s: %w", r.host.Label(r.ctid), err)
	}
	r.releaseRuntimeLock = release
	return nil
}

// recoverCommand is the command line that recovers container ctid.
func recoverCommand(h *vz.Host, ctid int) string {
	if name, ok := h.LXCName(ctid); ok {
		return fmt.Sprintf("reinstall --runtime lxc --lxcpath %s recover %s", h.LXC.Path, name)
	}
	return fmt.Sprintf("reinstall recover %d", ctid)
}

func newRuntime(o *Options, setting string) error {
	if o.NewRuntime == nil {
		return fmt.Errorf("no container runtime for %q", setting)
	}
	rt, name, err := o.NewRuntime(setting)
	if err != nil {
		return err
	}
	o.Runtime, o.RuntimeName = rt, name
	return nil
}
