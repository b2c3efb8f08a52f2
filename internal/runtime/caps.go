//go:build linux

package runtime

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// DroppedCaps are removed from the bounding set of the container's init and
// of every process entered into the container, so neither they nor anything
// they exec can regain them. The list is LXC's default lxc.cap.drop
// (module loading, raw I/O, setting the clock, MAC policy), plus CAP_SYSLOG
// (the kernel log is the host's: no reading it with dmesg_restrict, no
// clearing it) and CAP_MKNOD (no new device nodes: the container's /dev is
// made by its init, and its root is mounted nodev) and CAP_LINUX_IMMUTABLE
// (no chattr +i or +a: flags set on /old or the container's root would stop
// a rollback from moving the areas back). CAP_SYS_BOOT stays: busybox init stops with reboot(2), which
// inside a pid namespace only ends that namespace.
var DroppedCaps = []uintptr{
	unix.CAP_SYS_MODULE,
	unix.CAP_SYS_RAWIO,
	unix.CAP_SYS_TIME,
	unix.CAP_MAC_ADMIN,
	unix.CAP_MAC_OVERRIDE,
	unix.CAP_SYSLOG,
	unix.CAP_MKNOD,
	unix.CAP_LINUX_IMMUTABLE,
}

// dropBoundingCaps drops DroppedCaps from the calling thread's bounding set.
// The bounding set is per thread: call it with the OS thread locked, from
// the goroutine that then execs.
func dropBoundingCaps() error {
	for _, c := range DroppedCaps {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	return nil
}
