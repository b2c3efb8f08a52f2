package pipeline

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
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

// StagePreflight names the checks made before any change in errors.
const StagePreflight = "preflight"

// Error is a failed run: the stage it failed in, why, and the exit code.
type Error struct {
	Code  int
	Stage string
	Err   error
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
