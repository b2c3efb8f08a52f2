package safefs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Inode flags (linux/fs.h) that make a directory impossible to rename or
// change: chattr +i and +a.
const (
	fsImmutableFL = 0x00000010
	fsAppendFL    = 0x00000020
)

// ClearImmutable clears the immutable and append-only inode flags of the
// file open at fd (FS_IOC_GETFLAGS/SETFLAGS), leaving the others, and
// reports whether any was set. A file system without inode flags has none
// to clear.
func ClearImmutable(fd int) (bool, error) {
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read inode flags: %w", err)
	}
	if flags&(fsImmutableFL|fsAppendFL) == 0 {
		return false, nil
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags&^(fsImmutableFL|fsAppendFL))); err != nil {
		return false, fmt.Errorf("clear the immutable and append-only flags: %w", err)
	}
	return true, nil
}
