// Package version holds the reinstall release version, shared by the CLI and
// the built-in plugins (which are the same binary, so they never skew).
package version
