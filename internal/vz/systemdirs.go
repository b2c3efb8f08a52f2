package vz

import (
	"errors"
	"fmt"
)

// ErrSystemDirectory: VE_PRIVATE or VE_ROOT is, or holds, one of the host's
// system directories (contract §6). A reinstall swaps VE_PRIVATE away as a
// whole and the runtime mounts over VE_ROOT: /var/log or /usr there would
// be lost or hidden.
var ErrSystemDirectory = errors.New("a system directory of the host")

// systemDirs are the host's own directories (Filesystem Hierarchy Standard
// and the usual distributions' additions) that no container area may be or
// hold; an area below one of them (/var/lib/vz/private/101) is fine.
var systemDirs = []string{
	"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp",
	"/usr", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec",
	"/usr/local", "/usr/local/bin", "/usr/local/etc", "/usr/local/lib", "/usr/local/sbin",
	"/usr/local/share", "/usr/sbin", "/usr/share", "/usr/src",
	"/var", "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log",
	"/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp", "/var/www",
}

// checkSystemDirs refuses a container whose VE_PRIVATE or VE_ROOT is, or
// holds, a system directory of the host (under the root; parents' symlinks
// resolved, as for the other overlaps).
func (h *Host) checkSystemDirs(ct *Container) error {
	for _, area := range []struct{ key, path, why string }{
		{"VE_PRIVATE", ct.Private, "a reinstall would swap it away"},
		{"VE_ROOT", ct.Root, "the container would be mounted over it"},
	} {
		for _, dir := range systemDirs {
			sys := h.Path(dir)
			if nested(sys, area.path) || nested(resolveParent(sys), resolveParent(area.path)) {
				what := "is"
				if !nested(area.path, sys) && !nested(resolveParent(area.path), resolveParent(sys)) {
					what = "holds"
				}
				return fmt.Errorf("%s: %s %s %s %w (%s): %s; refusing it", ct.ConfigPath, area.key, area.path, what, ErrSystemDirectory, sys, area.why)
			}
		}
	}
	return nil
}
