// Package safefs does every host-side file operation on untrusted container trees: confined
// opens, reads and writes (openat2), atomic renames and exchanges, mount-safe deletion, the
// private-area checks, and template tarball extraction. Nothing here follows a symlink out of a tree.
package safefs
