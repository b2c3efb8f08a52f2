// Package pluginhost starts stage plugins as child processes (go-plugin over
// gRPC), serves them the host services, runs their stages, and turns crashes,
// timeouts and handshake failures into errors that name the plugin. An
// external plugin's file must be root's alone (CheckTrusted) and match its
// pinned SHA-256; the file checked is the file executed.
package pluginhost
