//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Exchange swaps two directory entries atomically (renameat2 RENAME_EXCHANGE), then fsyncs
// the parent directories so the swap survives a power loss. Parents are trusted host paths.
func Exchange(a, b string) error {
	return renameSynced("exchange", a, b, unix.RENAME_EXCHANGE)
}

// Rename moves a to b with RENAME_NOREPLACE and fsyncs the parent directories. Both must be
// on the same file system: EXDEV is returned, never a copy.
func Rename(a, b string) error {
	return renameSynced("rename", a, b, unix.RENAME_NOREPLACE)
}

// RenameAt moves oldName in oldDir to newName in newDir (RENAME_NOREPLACE) and fsyncs both
// directories. Names must be single components: with NOREPLACE an existing entry at newName,
// even a symlink planted in an untrusted tree, makes it fail instead of being followed.
func RenameAt(oldDir *os.File, oldName string, newDir *os.File, newName string) error {
	if err := checkComponent(oldName); err != nil {
		return fmt.Errorf("rename %s: %w", oldName, err)
	}
	if err := checkComponent(newName); err != nil {
		return fmt.Errorf("rename to %s: %w", newName, err)
	}
	what := fmt.Sprintf("rename %s to %s", filepath.Join(oldDir.Name(), oldName), filepath.Join(newDir.Name(), newName))
	oldFd, newFd := int(oldDir.Fd()), int(newDir.Fd())
	if err := unix.Renameat2(oldFd, oldName, newFd, newName, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := syncFds(oldFd, newFd); err != nil {
		return fmt.Errorf("%s: sync: %w", what, err)
	}
	return nil
}

// OpenDir opens a directory for use with RenameAt; a symlink as its last component is
// refused (ErrUnsafePath), the parents are trusted host paths.
func OpenDir(path string) (*os.File, error) {
	fd, err := openDirNoFollow(path, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SyncDir fsyncs a directory, making the renames and creations in it durable.
func SyncDir(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// renameSynced runs renameat2 relative to opened parents, so the fsync hits the very
// directories that changed.
func renameSynced(op, a, b string, flags uint) error {
	what := fmt.Sprintf("%s %s %s", op, a, b)
	aDir, aName, err := splitParent(a)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	bDir, bName, err := splitParent(b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	aFd, err := unix.Open(aDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer unix.Close(aFd)
	bFd, err := unix.Open(bDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer unix.Close(bFd)
	if err := unix.Renameat2(aFd, aName, bFd, bName, flags); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := syncFds(aFd, bFd); err != nil {
		return fmt.Errorf("%s: sync: %w", what, err)
	}
	return nil
}

// splitParent splits a path into its parent directory and a real last component.
func splitParent(p string) (dir, name string, err error) {
	p = filepath.Clean(p)
	dir, name = filepath.Split(p)
	if err := checkComponent(name); err != nil {
		return "", "", err
	}
	if dir == "" {
		dir = "."
	}
	return dir, name, nil
}

// checkComponent accepts a single directory entry name.
func checkComponent(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%q is not a single file name", name)
	}
	return nil
}

// syncFds fsyncs each distinct directory once.
func syncFds(fds ...int) error {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		if seen[inode{st.Dev, st.Ino}] {
			continue
		}
		seen[inode{st.Dev, st.Ino}] = true
		if err := syncFd(fd); err != nil {
			return err
		}
	}
	return nil
}

// syncFd fsyncs fd; an O_PATH fd (EBADF) is reopened read-only through /proc first.
func syncFd(fd int) error {
	err := unix.Fsync(fd)
	if !errors.Is(err, unix.EBADF) {
		return err
	}
	rfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(rfd)
	return unix.Fsync(rfd)
}
