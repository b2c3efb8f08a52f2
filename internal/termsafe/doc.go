// Package termsafe makes text that comes from inside a container safe to
// print on the operator's terminal or into a log file: control characters
// are shown escaped instead of being sent.
package termsafe
