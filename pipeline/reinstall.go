package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// Options is one `reinstall CTID` invocation.
type Options struct {
	Host   *vz.Host
	Target string // CTID or name, as the operator typed it
	// SkipBackup deletes the old private area instead of keeping it at /old.
	SkipBackup bool
	// Stop stops a running container right before the swap.
	Stop bool
	// PipelineFile overrides the site pipeline and the embedded default.
	PipelineFile string
	Runtime      runtime.Runtime
	StopGrace    time.Duration
	Logger       hclog.Logger
	Events       Sink
	// SelfExe serves the built-in plugins (`SelfExe __plugin <name>`).
	SelfExe string
	// Vars (--var name=value) and VarFiles (--var-file) set the pipeline's
	// variables, over REINSTALL_VAR_<name> in the environment.
	Vars     map[string]string
	VarFiles []string
}

// SitePipeline is the site's pipeline file, used when present (under --root).
const SitePipeline = "/etc/vz/reinstall.hcl"

// Reinstall runs the pipeline for one container: preflight, stages, and on
// failure a rollback that leaves the container as it was.
func Reinstall(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	r, err := preflight(ctx, o)
	if err != nil {
		return err
	}
	defer r.close()
	return r.execute(ctx)
}

// newRunID returns a short random id naming the run's trash, cgroup and logs.
func newRunID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("random run id: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// stageError wraps a stage failure with the exit code of a rolled-back run,
// or of a run that needs recovery when the rollback itself failed.
func stageError(stage string, err, rollbackErr error) *Error {
	if rollbackErr != nil {
		return &Error{Code: ExitRecover, Stage: stage, Err: fmt.Errorf("%v; rollback failed: %w", err, rollbackErr)}
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Code: ExitFailed, Stage: stage, Err: err}
}
