//go:build linux

package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// initEnv is the whole environment of the container's init.
var initEnv = []string{
	"container=reinstall",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
	"TERM=linux",
}

// InitMain is the hidden entry point "__ctinit <spec JSON>", run by the
// monitor as pid 1 of new mount, pid, uts, ipc and net namespaces, with fd 3
// = the sync pipe. It builds the container's mounts, sets the hostname,
// brings lo up, drops capabilities and execs the container's init.
func InitMain(args []string) int {
	// The bounding set is per thread: drop it on the thread that execs.
	goruntime.LockOSThread()
	unix.CloseOnExec(3)
	sync := os.NewFile(3, "sync")
	fail := func(err error) int {
		fmt.Fprintf(sync, "init: %v", err)
		return 1
	}
	if len(args) != 1 {
		return fail(errors.New("usage: __ctinit SPEC"))
	}
	// Run by hand on the host, the steps below would remount the host's "/".
	if os.Getpid() != 1 {
		return fail(errors.New("__ctinit must run as pid 1 of a new pid namespace"))
	}
	var s Spec
	if err := json.Unmarshal([]byte(args[0]), &s); err != nil {
		return fail(fmt.Errorf("spec: %w", err))
	}
	unix.Umask(0)
	if err := enterRoot(s.Private, s.Root); err != nil {
		return fail(err)
	}
	if err := mountSystem(); err != nil {
		return fail(err)
	}
	if err := setupDev(); err != nil {
		return fail(err)
	}
	unix.Umask(0o022)
	if err := setHostname(s.Hostname); err != nil {
		return fail(err)
	}
	if err := loopbackUp(); err != nil {
		return fail(err)
	}
	if err := dropBoundingCaps(); err != nil {
		return fail(err)
	}
	io.WriteString(sync, initExecMark)
	err := unix.Exec(s.Init, []string{s.Init}, initEnv)
	return fail(fmt.Errorf("exec %s: %w", s.Init, err))
}

// enterRoot makes the private area, bind-mounted at root, this mount
// namespace's "/". Only the first two steps see host paths; everything after
// resolves inside the container, where a symlink cannot reach the host.
func enterRoot(private, root string) error {
	// No mount or unmount below may propagate to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if err := unix.Mount(private, root, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", private, root, err)
	}
	// A device node in the private area (an old area at /old, a customer's
	// own) must not open a host device: only /dev, mounted below, allows
	// them. The bind keeps the host mount's other flags.
	if err := remountNodev(root); err != nil {
		return err
	}
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	// runc's trick: stack the old root on the new one and detach it, so no
	// put_old directory is ever created in the private area.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// remountNodev adds nodev to the bind mount at path, keeping its flags.
func remountNodev(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NODEV)
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_RDONLY, unix.MS_RDONLY}, {unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s nodev: %w", path, err)
	}
	return nil
}

// mountSystem mounts /proc (of the new pid namespace) as LXC's default
// "proc:mixed" does, and, if the container has a /sys directory, sysfs
// read-only (showing the new net namespace).
func mountSystem() error {
	if err := ensureDir("/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	// Most of /proc/sys and /proc/sysrq-trigger act on the host: read-only.
	// /proc/sys/net belongs to the container's net namespace: writable.
	for _, m := range []struct {
		path     string
		readOnly bool
	}{{"/proc/sys", true}, {"/proc/sys/net", false}, {"/proc/sysrq-trigger", true}} {
		if err := bindSelf(m.path, m.readOnly); err != nil {
			return err
		}
	}
	if fi, err := os.Lstat("/sys"); err != nil || !fi.IsDir() {
		return nil
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	return nil
}

// bindSelf bind-mounts path onto itself and sets it read-only or writable
// (a bind inherits the flags of the mount it comes from). A path the kernel
// does not have (no CONFIG_MAGIC_SYSRQ) is skipped.
func bindSelf(path string, readOnly bool) error {
	err := unix.Mount(path, path, "", unix.MS_BIND, "")
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind %s: %w", path, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", path, err)
	}
	return nil
}

// devNodes are the character devices of the container's /dev.
var devNodes = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

var devLinks = [][2]string{ // name, target
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
}

// setupDev mounts a small tmpfs on /dev with the usual nodes and links, a
// private devpts instance and /dev/shm. Call with umask 0.
func setupDev() error {
	if err := ensureDir("/dev", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range devNodes {
		if err := unix.Mknod("/dev/"+d.name, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod /dev/%s: %w", d.name, err)
		}
	}
	for _, l := range devLinks {
		if err := unix.Symlink(l[1], "/dev/"+l[0]); err != nil {
			return fmt.Errorf("symlink /dev/%s: %w", l[0], err)
		}
	}
	if err := unix.Mkdir("/dev/pts", 0o755); err != nil {
		return fmt.Errorf("mkdir /dev/pts: %w", err)
	}
	if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return fmt.Errorf("mount /dev/pts: %w", err)
	}
	if err := unix.Mkdir("/dev/shm", 0o1777); err != nil {
		return fmt.Errorf("mkdir /dev/shm: %w", err)
	}
	if err := unix.Mount("shm", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return nil
}

// ensureDir creates dir if missing and refuses anything but a directory
// (a symlink would move the mount elsewhere in the container).
func ensureDir(dir string, mode uint32) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := unix.Mkdir(dir, mode); err != nil {
			return fmt.Errorf("mkdir %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s in the container is not a directory", dir)
	}
	return nil
}

// setHostname sets the new uts namespace's name: the Spec's, else the
// container's /etc/hostname, else "localhost" — never the host's.
func setHostname(h string) error {
	if h == "" {
		h = hostnameFromEtc()
	}
	if h == "" {
		h = "localhost"
	}
	if err := unix.Sethostname([]byte(h)); err != nil {
		return fmt.Errorf("sethostname %q: %w", h, err)
	}
	return nil
}

// hostnameFromEtc reads the first line of the container's /etc/hostname; it
// returns "" if that is no regular file or holds no valid name.
func hostnameFromEtc() string {
	f, err := os.OpenFile("/etc/hostname", os.O_RDONLY|unix.O_NONBLOCK, 0) // a FIFO must not block
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 256))
	h, _, _ := strings.Cut(string(b), "\n")
	h = strings.TrimSpace(h)
	if CheckHostname(h) != nil {
		return ""
	}
	return h
}

// loopbackUp brings up lo, the only interface of the new net namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo up: set flags: %w", err)
	}
	return nil
}
