package engine

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// Exit codes of the contract (§4), stable for automation.
const (
	ExitOK      = 0
	ExitFailed  = 1  // a stage failed; rolled back
	ExitRefused = 2  // refused before any change
	ExitRecover = 3  // recovery needed
	ExitLocked  = 9  // locked by a live process
	ExitRunning = 32 // running and no --stop
)

// Reasons refine an exit code for automation: stable slugs, documented in
// README "Exit codes" and carried by the --json error event.
const (
	// exit 1: a stage failed and the run was rolled back
	ReasonStageFailed  = "stage-failed"  // the stage reported a failure (a script's exit status, a plugin's error)
	ReasonPluginFailed = "plugin-failed" // the plugin serving the stage crashed
	ReasonTimeout      = "timeout"       // the stage ran past its timeout
	ReasonInterrupted  = "interrupted"   // SIGINT or SIGTERM
	// exit 2: refused before any change
	ReasonUsage            = "usage"             // bad arguments or flags, an invalid CTID or name
	ReasonUnknownContainer = "unknown-container" // no config for the CTID, or no such name
	ReasonConfigInvalid    = "config-invalid"    // vz.conf or the container config cannot be used
	ReasonPipelineInvalid  = "pipeline-invalid"  // the pipeline, or a plugin it names, has an error
	ReasonPrivateMissing   = "private-missing"   // VE_PRIVATE is missing or not a directory
	ReasonPrivateSymlink   = "private-symlink"   // VE_PRIVATE is a symlink
	ReasonMountInside      = "mount-inside"      // a mount point in (or at) VE_PRIVATE
	ReasonTemplateMissing  = "template-missing"  // no template cache for OSTEMPLATE
	ReasonLeftovers        = "leftovers"         // a temporary, parked or trash area without a journal
	ReasonPloop            = "ploop"             // the private area is a ploop image, not a directory
	ReasonRefused          = "refused"           // another host problem found before any change
	// exit 3: recovery needed
	ReasonJournalUnfinished = "journal-unfinished" // an earlier run did not finish: run recover
	ReasonRollbackFailed    = "rollback-failed"    // a stage failed and so did its rollback
	ReasonRecoverNeeded     = "recover-needed"     // a failure past the point of no return
	ReasonRecoverFailed     = "recover-failed"     // recover could not finish
	// exit 9 and 32
	ReasonLocked  = "locked"
	ReasonRunning = "running"
)

// StagePreflight names the checks made before any change in errors.
const StagePreflight = "preflight"

// stageRecover names recovery in errors.
const stageRecover = "recover"

// Error is a failed run: the stage it failed in, why, and the exit code.
type Error struct {
	Code  int
	Stage string
	Err   error
	// Reason is set where the error is made when no wrapped error tells it
	// (see the Reason function).
	Reason string
	// Diags holds pipeline problems to print with their source.
	Diags hcl.Diagnostics
	// Sources maps file names in Diags to their content.
	Sources map[string][]byte
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

func refused(format string, args ...any) *Error {
	return &Error{Code: ExitRefused, Stage: StagePreflight, Err: fmt.Errorf(format, args...)}
}

// refusedBecause is refused with its reason.
func refusedBecause(reason, format string, args ...any) *Error {
	e := refused(format, args...)
	e.Reason = reason
	return e
}

// reasonError gives an error a reason, for when the errors it wraps tell
// none; its text is the wrapped error's.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func withReason(reason string, err error) error { return &reasonError{reason: reason, err: err} }

// sentinelReasons classify the errors of the layers below, in order.
var sentinelReasons = []struct {
	err    error
	reason string
}{
	{vz.ErrInvalidCTID, ReasonUsage},
	{vz.ErrInvalidName, ReasonUsage},
	{vz.ErrUnknownContainer, ReasonUnknownContainer},
	{vz.ErrTemplateNotFound, ReasonTemplateMissing},
	{safefs.ErrSymlinkedArea, ReasonPrivateSymlink},
	{safefs.ErrMountInside, ReasonMountInside},
	{vz.ErrAreaOverlap, ReasonConfigInvalid},
	{vz.ErrSystemDirectory, ReasonConfigInvalid},
}

// ExitCode returns the process exit code for an error from this package.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailed
}

// Reason returns the stable reason slug of a failed run: the one its Error
// was made with, else the one the errors it wraps tell, else its exit
// code's. It is "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		return ReasonStageFailed
	}
	if e.Reason != "" {
		return e.Reason
	}
	for _, s := range sentinelReasons {
		if errors.Is(e.Err, s.err) {
			return s.reason
		}
	}
	var crash *pluginhost.CrashError
	var re *reasonError
	switch {
	case errors.As(e.Err, &crash):
		return ReasonPluginFailed
	case errors.As(e.Err, &re):
		return re.reason
	case len(e.Diags) > 0:
		return ReasonPipelineInvalid
	}
	switch e.Code {
	case ExitFailed:
		return ReasonStageFailed
	case ExitRecover:
		if e.Stage == stageRecover {
			return ReasonRecoverFailed
		}
		return ReasonRecoverNeeded
	case ExitLocked:
		return ReasonLocked
	case ExitRunning:
		return ReasonRunning
	}
	return ReasonRefused
}
