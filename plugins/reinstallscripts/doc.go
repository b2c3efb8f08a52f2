// Package reinstallscripts is the built-in "reinstall-scripts" plugin: a
// configure stage that runs the host's /etc/vz/reinstall.d/*.sh hooks (and,
// only when named by --scripts, the old container's own) inside the new container.
package reinstallscripts
