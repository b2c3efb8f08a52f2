//go:build !faultinject

package engine

import "github.com/reinstall-dev/reinstall/pipeline/journal"

// Release builds have no fault injection: these hooks do nothing.
func (r *run) faultAfterRecord(journal.Record) {}
func (r *run) faultDuringExec()                {}
func faultEnv() []string                       { return nil }
