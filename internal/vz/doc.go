// Package vz reads and writes the host's Virtuozzo/OpenVZ layout under a --root:
// vz.conf and <CTID>.conf (line-preserving), CTIDs and names, template caches,
// and the $LOCKDIR/<CTID>.lck container lock (contract §1).
package vz
