// Package sdk is what a reinstall stage plugin is built with: implement Stage
// for each stage kind the plugin serves and call Serve from main. The host
// decodes the stage's HCL body with the plugin's Schema and hands the values
// over; the plugin reaches the container only through Host.
//
// # Writing a plugin
//
// A plugin is a Go program whose main calls Serve and nothing else first
// (stdout carries go-plugin's handshake; log to stderr, through the Logger a
// stage gets):
//
//	func main() {
//		sdk.Serve(&sdk.Plugin{
//			Name:    "acme-license", // the file is reinstall-plugin-acme-license
//			Version: "1.0.0",
//			Stages:  map[string]sdk.Stage{sdk.KindConfigure: licenseStage{}},
//		})
//	}
//
// A Stage declares its attributes with Schema (SchemaFromStruct derives them
// from `hcl:"name"` / `hcl:"name,optional"` struct tags, with `sensitive` and
// `description` tags), checks values in Validate, and works in Run, where
// Config.Decode fills the same struct. A stage that changes anything
// implements Rollbacker too.
//
// # Host services
//
// RunRequest.Host is the plugin's only way to the container (a plugin never
// enters namespaces itself):
//
//   - Journal records a sub-step before it is done (the host fsyncs it), so
//     that Rollback, possibly in a fresh process after a crash, gets it back
//     in RollbackRequest.Entries.
//   - Exec runs a command inside the running container, streaming its
//     stdout and stderr to the given writers (LogWriter turns them into the
//     operator's log lines) and returning its exit code.
//   - ReadFile, WriteFile and Probe are confined to the new private area:
//     paths are as seen from inside the container, symlinks never lead out.
//   - Start, Stop and Status drive the container through the host's runtime.
//   - Secret returns a sensitive attribute's value. The host never puts
//     sensitive values in Config (they are null there, and unknown in
//     Validate), in the journal, in a log or in the plugin's environment:
//     Secret is the only way to them, during Run.
//
// RunRequest.UI reports to the operator (lines tagged with the stage's name);
// after Run has returned, the same calls go through the host's Emit service.
//
// # Protocol versions
//
// ProtocolVersion is the major version, negotiated by go-plugin; a plugin
// built for another major is refused with one line naming both. Minor
// features are announced in Plugin.Capabilities.
//
// # Testing
//
// Package sdktest serves a plugin in-process over real gRPC against a
// FakeHost (sdktest.Serve), launches a built binary the way reinstall does
// (sdktest.Launch), and checks a built binary against the host's
// expectations (sdktest.Conformance).
package sdk
