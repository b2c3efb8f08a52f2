package pluginhost

import (
	"errors"
	"fmt"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// ErrClosed is returned by calls on a Plugin after Close (or after a crash
// or a cancelled stage closed it): launch the plugin again.
var ErrClosed = errors.New("the plugin process was stopped")

// StageError is a stage's own failure, as the plugin reported it.
type StageError struct {
	Plugin string
	Stage  string
	Reason string
	// Diagnostics place the failure in the stage's configuration.
	Diagnostics sdk.Diagnostics
}

// Error is the plugin's reason alone; callers add the stage's name.
func (e *StageError) Error() string { return e.Reason }

// CrashError reports a plugin process that died during a stage (a panic
// outside the SDK's guard, os.Exit, a signal), with its last stderr lines.
type CrashError struct {
	Plugin     string
	Stage      string
	StderrTail []string
	// ExitStatus is how the process ended, e.g. "exit status 3" or
	// "signal: killed"; empty if it was not known.
	ExitStatus string
	// summary is the telling stderr line (a panic's first line, else the last).
	summary string
}

func (e *CrashError) Error() string {
	return fmt.Sprintf("plugin %s crashed during stage %s%s", e.Plugin, e.Stage, detail(e.summary, e.ExitStatus))
}
