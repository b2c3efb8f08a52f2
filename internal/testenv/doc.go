// Package testenv builds real demo hosts for tests and the demo: a busybox
// OS template tarball, a --root with vz.conf, and container configs. It needs
// a static busybox (Debian's busybox-static) and GNU tar.
package testenv
