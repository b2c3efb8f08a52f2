// Package engine runs a loaded pipeline against a container: preflight, the
// stages in order through their plugin processes, the host services those
// plugins call, rollback on failure, recover after a crash, status, plan
// and validate (which need the plugins' schemas), and the events a run
// sends. It owns the lock and writes the journal (package journal).
package engine
