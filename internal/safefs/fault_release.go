//go:build !faultinject

package safefs

// faultPoint does nothing in release builds; see fault_inject.go.
func faultPoint(string, int64) {}
