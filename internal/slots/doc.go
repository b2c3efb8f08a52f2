// Package slots bounds how many runs a host does at once, across separate
// processes: a run holds one of N flocked files in a directory beside the
// locks, and waits while all are held.
package slots
