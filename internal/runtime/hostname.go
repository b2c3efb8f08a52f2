//go:build linux

package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// maxHostname is HOST_NAME_MAX: sethostname(2) refuses longer names.
const maxHostname = 64

// checkHostname accepts what sethostname(2) and /etc/hostname can hold:
// 1-64 bytes of letters, digits, '-', '.' and '_'.
func checkHostname(h string) error {
	if h == "" || len(h) > maxHostname {
		return fmt.Errorf("hostname %q: must be 1-%d characters", h, maxHostname)
	}
	for _, c := range []byte(h) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return fmt.Errorf("hostname %q: invalid character %q", h, c)
		}
	}
	return nil
}

// beneath confines a path walk to the directory it starts from: no symlink,
// no magic link, no "..", no other filesystem.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// writeHostnameFile writes hostname to <private>/etc/hostname as vzctl does
// before a start. The private area is untrusted: a symlinked etc fails and a
// symlinked etc/hostname is replaced, never followed (temp file + renameat
// inside the etc directory's fd).
func writeHostnameFile(private, hostname string) error {
	root, err := unix.Open(private, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write hostname: open %s: %w", private, err)
	}
	defer unix.Close(root)
	etc, err := unix.Openat2(root, "etc", &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath})
	if err != nil {
		return fmt.Errorf("write hostname: open %s/etc: %w", private, err)
	}
	defer unix.Close(etc)

	var suffix [6]byte
	rand.Read(suffix[:])
	tmp := ".hostname.reinstall-" + hex.EncodeToString(suffix[:])
	fd, err := unix.Openat(etc, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("write hostname: create %s/etc/%s: %w", private, tmp, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write([]byte(hostname + "\n"))
	if err == nil {
		err = f.Chmod(0o644) // whatever the umask
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(etc, tmp, etc, "hostname")
	}
	if err != nil {
		unix.Unlinkat(etc, tmp, 0)
		return fmt.Errorf("write hostname %s/etc/hostname: %w", private, err)
	}
	return nil
}
