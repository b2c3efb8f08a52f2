// Package start is the built-in start stage (contract §2.4): it starts the
// container from its new private area through the host's runtime, and stops
// it again on rollback.
package start
