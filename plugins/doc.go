// Package plugins registers the built-in stage plugins. Each is served by the
// reinstall binary itself (`reinstall __plugin <name>`) and implements the
// SDK's Stage interface exactly as a vendor plugin would.
package plugins
