package pluginhost

import sdk "github.com/reinstall-dev/reinstall/plugin-sdk"

// Services is what the host serves one plugin process: brokered once per
// process, its id goes into every RunContext. The SDK converts the protocol's
// calls to these (Exec streams the writers' chunks back, then the exit code).
// Journal, Emit and Secret concern the stage the process is running: a plugin
// process runs one stage at a time.
type Services interface {
	sdk.Host // Journal, Exec, ReadFile, WriteFile, Probe, Start, Stop, Status, Secret, ListeningPorts
	// Emit receives log lines and progress a stage sends outside its Run
	// stream (HostServices.Emit), tagged with the running stage.
	Emit(stage string, ev Event)
}

// Event is a stage's log line or progress report.
type Event = sdk.Event

// LogLine is a stage's message to the operator.
type LogLine = sdk.LogLine

// Progress reports how far a stage is.
type Progress = sdk.Progress

var _ sdk.HostServer = Services(nil)
