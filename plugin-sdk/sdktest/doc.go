// Package sdktest tests stage plugins: Serve runs a plugin in-process over
// real gRPC against a FakeHost that records what the stages asked of it, and
// Conformance checks a built plugin binary against the host's expectations.
package sdktest
