package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reinstall-dev/reinstall/internal/redact"
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
	// ResetPwDB keeps the template's passwd, shadow and group (--resetpwdb).
	ResetPwDB bool
	// SkipScripts runs no /etc/vz/reinstall.d hook (--skipscripts).
	SkipScripts bool
	// Scripts, when not empty, names the only reinstall.d hooks to run (--scripts).
	Scripts []string
	// NoHealth makes opts.nohealth true: the default pipeline's health stage
	// does not run (--no-health).
	NoHealth bool
	// OSTemplate (--ostemplate) reinstalls from this template instead of the
	// config's OSTEMPLATE, and writes it as OSTEMPLATE once the run has
	// passed the point of no return.
	OSTemplate string
	// PipelineFile overrides the site pipeline and the embedded default.
	PipelineFile string
	// Runtime, when set, is the container runtime whatever the pipeline
	// says. Otherwise NewRuntime builds the one RuntimeName (--runtime:
	// auto, native, vzctl or prlctl) or else the pipeline's runtime setting
	// names, and RuntimeName becomes its concrete name (journaled).
	Runtime     runtime.Runtime
	RuntimeName string
	NewRuntime  func(setting string) (rt runtime.Runtime, name string, err error)
	StopGrace   time.Duration
	Logger      hclog.Logger
	// LogFile, if set, writes to the run's log file alone: plugin lines
	// below Logger's level and a crashed plugin's stack go there.
	LogFile hclog.Logger
	Events  Sink
	// SelfExe serves the built-in plugins (`SelfExe __plugin <name>`).
	SelfExe string
	// Vars (--var name=value) and VarFiles (--var-file) set the pipeline's
	// variables, over REINSTALL_VAR_<name> in the environment.
	Vars     map[string]string
	VarFiles []string
	// SkipRollback names stages whose rollback a recovery skips (recover
	// --skip-rollback), journaled and logged: what they did stays in place.
	SkipRollback []string
	// Secrets collects every secret value the run meets (sensitive
	// variables and attributes, values derived from them); the run hides
	// them in its events and errors, and the caller should pass its log
	// writers through it (Secrets.Writer). Nil: the run keeps its own.
	Secrets *redact.Secrets
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
	began := time.Now()
	return r.endFailed(r.execute(ctx), began)
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
		return &Error{Code: ExitRecover, Stage: stage, Reason: ReasonRollbackFailed, Err: fmt.Errorf("%v; rollback failed: %w", err, rollbackErr)}
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Code: ExitFailed, Stage: stage, Err: err}
}
