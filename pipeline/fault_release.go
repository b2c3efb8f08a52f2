//go:build !faultinject

package pipeline

// Release builds have no fault injection: these hooks do nothing.
func (r *run) faultAfterRecord(Record) {}
func (r *run) faultDuringExec()        {}
func faultEnv() []string               { return nil }
