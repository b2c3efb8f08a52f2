// Package journal is the crash-safety record of a reinstall run: an
// append-only file of JSON lines at $LOCKDIR/<CTID>.journal, each fsynced
// before the step it announces is done, and Replay, the one reading of it
// that the run, `reinstall status` and `reinstall recover` share.
package journal
