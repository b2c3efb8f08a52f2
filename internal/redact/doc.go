// Package redact hides secret values in text before it reaches a terminal,
// a log file or an event: a run registers every secret it knows (the
// values of sensitive variables and attributes, and every value derived
// from them), and each writer and message of the run passes through the
// same set. The model is Packer's LogSecretFilter.
package redact
