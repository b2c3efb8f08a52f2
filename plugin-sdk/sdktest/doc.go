// Package sdktest tests stage plugins: Serve runs a plugin in-process over
// real gRPC against a FakeHost that records what the stages asked of it,
// Launch starts a built plugin binary the way reinstall does, and
// Conformance checks a built binary against the host's expectations.
package sdktest
