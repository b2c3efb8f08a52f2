// Package retention is the built-in backup-retention stage (contract §2.6):
// without --skipbackup the old area stays at /old for good; with it, the old
// area is renamed to the trash and deleted, after the container is running.
package retention
