// Package hooks finds, selects and reads the reinstall.d hook scripts: the
// host's /etc/vz/reinstall.d/*.sh under --root and, when named, a
// container's own, without following a container's symlinks. The
// reinstall-scripts plugin runs them; `reinstall --listscripts` lists them.
package hooks
