//go:build linux

package safefs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrCrossesMount is returned by RemoveTree for a mount point at or below the path; nothing
// on that mount is touched.
var ErrCrossesMount = errors.New("crosses a mount point")

// maxOpenDirs bounds the directory fds one removal holds: deeper ancestors are closed and
// reopened through ".." (checked by device and inode) on the way back up.
const maxOpenDirs = 64

// maxPasses bounds rescans of a directory that keeps gaining entries while being emptied.
const maxPasses = 1000

// MoveToTrash (contract §3) renames path to trash (same file system, NOREPLACE, directory
// fsync) and then removes trash. A missing path means an earlier call got past the rename:
// trash is removed if it is still there, so the call can simply be repeated after a crash.
func MoveToTrash(path, trash string) error {
	if _, err := os.Lstat(path); err == nil {
		if err := Rename(path, trash); err != nil {
			return fmt.Errorf("move to trash: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("move to trash: %w", err)
	}
	return RemoveTree(trash)
}

// RemoveTree deletes path and everything below it fd-relatively (openat2 beneath, getdents,
// unlinkat) without following any symlink or entering another mount. A missing path is not
// an error, and an interrupted removal is finished by calling it again.
func RemoveTree(path string) error {
	dir, name, err := splitParent(path)
	if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	parentFd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	defer unix.Close(parentFd)
	var st unix.Stat_t
	if err := unix.Fstatat(parentFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR { // a symlink is removed itself, never followed
		if err := unix.Unlinkat(parentFd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove %s: %w", path, err)
		}
		return nil
	}
	// Refuse before deleting anything; the walk's RESOLVE_NO_XDEV stays as the backstop.
	if mount, err := mountAtOrBelow(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	} else if mount != "" {
		return fmt.Errorf("remove %s: %w: %s", path, ErrCrossesMount, mount)
	}
	if err := removeDirAt(parentFd, name); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// removeDirAt removes the directory name in parentFd and everything below it.
func removeDirAt(parentFd int, name string) error {
	var pst unix.Stat_t
	if err := unix.Fstat(parentFd, &pst); err != nil {
		return err
	}
	fd, st, err := openSubdir(parentFd, name, pst.Dev)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil
	case err != nil:
		return err
	}
	if err := removeBelow(fd, st); err != nil {
		return err
	}
	if err := unix.Unlinkat(parentFd, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// removeContents empties the directory dirFd, keeping the directory itself.
func removeContents(dirFd int) error {
	fd, err := openat2(dirFd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	return removeBelow(fd, st)
}

// removeBelow empties the directory fd (taking ownership of fd) with an explicit stack.
func removeBelow(fd int, st unix.Stat_t) error {
	r := &treeRemover{buf: make([]byte, 64<<10)}
	r.stack = append(r.stack, dirFrame{fd: fd, dev: st.Dev, ino: st.Ino})
	err := r.run()
	r.closeAll()
	return err
}

// dirFrame is one directory on the way down.
type dirFrame struct {
	fd       int    // -1 while closed to bound open fds
	name     string // entry name in the parent frame
	dev, ino uint64 // identity, checked when reopened through ".."
	pending  []string
	passes   int
}

type treeRemover struct {
	stack      []dirFrame
	lowestOpen int // frames below this index have fd -1
	buf        []byte
	removed    int64 // entries unlinked so far
}

func (r *treeRemover) run() error {
	for len(r.stack) > 0 {
		top := &r.stack[len(r.stack)-1]
		if n := len(top.pending); n > 0 {
			name := top.pending[n-1]
			top.pending = top.pending[:n-1]
			if err := r.descend(name); err != nil {
				return err
			}
			continue
		}
		// Rescan until the directory reads empty: getdents may skip entries while
		// the same directory is being unlinked from.
		if top.passes++; top.passes > maxPasses {
			return fmt.Errorf("%q: directory keeps filling up", r.pathOf(""))
		}
		found, err := r.scan(top)
		if err != nil {
			return err
		}
		if !found {
			if err := r.ascend(); err != nil {
				return err
			}
		}
	}
	return nil
}

// scan unlinks every non-directory in top and queues its subdirectories.
func (r *treeRemover) scan(top *dirFrame) (found bool, err error) {
	if _, err := unix.Seek(top.fd, 0, io.SeekStart); err != nil {
		return false, fmt.Errorf("%q: rewind: %w", r.pathOf(""), err)
	}
	for {
		n, err := unix.Getdents(top.fd, r.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		} else if err != nil {
			return found, fmt.Errorf("%q: getdents: %w", r.pathOf(""), err)
		}
		if n <= 0 {
			return found, nil
		}
		for off := 0; off < n; { // struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name
			reclen := int(binary.NativeEndian.Uint16(r.buf[off+16:]))
			typ := r.buf[off+18]
			name := r.buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			found = true
			if err := r.removeEntry(top, string(name), typ); err != nil {
				return found, err
			}
		}
	}
}

// removeEntry unlinks a non-directory or queues a directory for descent.
func (r *treeRemover) removeEntry(top *dirFrame, name string, typ byte) error {
	if typ == unix.DT_UNKNOWN {
		var st unix.Stat_t
		if err := unix.Fstatat(top.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%q: %w", r.pathOf(name), err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			typ = unix.DT_DIR
		}
	}
	if typ == unix.DT_DIR {
		top.pending = append(top.pending, name)
		return nil
	}
	switch err := unix.Unlinkat(top.fd, name, 0); {
	case err == nil, errors.Is(err, unix.ENOENT):
		r.removed++
		faultPoint("remove", r.removed)
		return nil
	case errors.Is(err, unix.EISDIR):
		top.pending = append(top.pending, name)
		return nil
	default:
		return fmt.Errorf("%q: %w", r.pathOf(name), err)
	}
}

// descend opens the subdirectory name of the top frame and pushes it.
func (r *treeRemover) descend(name string) error {
	parent := &r.stack[len(r.stack)-1]
	fd, st, err := openSubdir(parent.fd, name, parent.dev)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil
	case errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP): // replaced by a non-directory
		if err := unix.Unlinkat(parent.fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%q: %w", r.pathOf(name), err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%q: %w", r.pathOf(name), err)
	}
	r.stack = append(r.stack, dirFrame{fd: fd, name: name, dev: st.Dev, ino: st.Ino})
	for len(r.stack)-r.lowestOpen > maxOpenDirs {
		unix.Close(r.stack[r.lowestOpen].fd)
		r.stack[r.lowestOpen].fd = -1
		r.lowestOpen++
	}
	return nil
}

// ascend pops the emptied top directory and removes it from its parent.
func (r *treeRemover) ascend() error {
	top := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	defer unix.Close(top.fd)
	if len(r.stack) == 0 {
		return nil // the caller owns the directory itself
	}
	parent := &r.stack[len(r.stack)-1]
	if parent.fd < 0 {
		fd, err := reopenParent(top.fd, parent.dev, parent.ino)
		if err != nil {
			return fmt.Errorf("%q: %w", r.pathOf(""), err)
		}
		parent.fd = fd
		r.lowestOpen = len(r.stack) - 1
	}
	if err := unix.Unlinkat(parent.fd, top.name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%q: %w", r.pathOf(top.name), err)
	}
	return nil
}

func (r *treeRemover) closeAll() {
	for i := range r.stack {
		if r.stack[i].fd >= 0 {
			unix.Close(r.stack[i].fd)
		}
	}
	r.stack = nil
}

// pathOf names an entry of the top frame relative to the directory being removed.
func (r *treeRemover) pathOf(name string) string {
	parts := make([]string, 0, len(r.stack))
	for _, f := range r.stack[1:] {
		parts = append(parts, f.name)
	}
	if name != "" {
		parts = append(parts, name)
	}
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// openSubdir opens a directory entry without following a symlink or leaving the mount.
func openSubdir(parentFd int, name string, parentDev uint64) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := openat2(parentFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0, resolveBeneath)
	if errors.Is(err, unix.EXDEV) {
		return -1, st, ErrCrossesMount
	} else if err != nil {
		return -1, st, err
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	if st.Dev != parentDev {
		unix.Close(fd)
		return -1, st, ErrCrossesMount
	}
	return fd, st, nil
}

// reopenParent opens ".." of a directory and checks it is still the recorded parent.
func reopenParent(childFd int, dev, ino uint64) (int, error) {
	fd, err := unix.Openat(childFd, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("reopen parent: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("reopen parent: %w", err)
	}
	if st.Dev != dev || st.Ino != ino {
		unix.Close(fd)
		return -1, errors.New("directory was moved while being removed")
	}
	return fd, nil
}
