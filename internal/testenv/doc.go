// Package testenv builds real demo hosts for tests and the demo: a busybox
// OS template tarball, a --root with vz.conf, container configs, and hostile
// private areas with canaries for the security suite. It needs a static
// busybox (Debian's busybox-static) and GNU tar.
package testenv
