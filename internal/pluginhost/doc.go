// Package pluginhost starts stage plugins as child processes (go-plugin over
// gRPC), serves them the host services, runs their stages, and turns crashes,
// timeouts and handshake failures into errors that name the plugin.
package pluginhost
