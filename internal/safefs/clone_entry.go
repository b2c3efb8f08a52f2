//go:build linux

package safefs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// worker creates the non-directory entries of CloneTree's jobs.
type worker struct {
	*cloner
	buf []byte // read/write fallback where copy_file_range cannot copy
}

func (w *worker) cloneEntries(ctx context.Context, job dirJob) error {
	for _, name := range job.names {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := dirEntry{name: name}
		if err := unix.Fstatat(job.srcFd, name, &e.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("%q: %w", shortName(join(job.rel, name)), err)
		}
		if e.st.Nlink > 1 && w.laterName(job.rel, &e) {
			continue // linked in finish, once its first name exists
		}
		if err := w.cloneEntry(job, &e); err != nil {
			return fmt.Errorf("%q: %w", shortName(join(job.rel, name)), err)
		}
		w.files.Add(1)
		w.report(false)
	}
	return nil
}

type dirEntry struct {
	name string
	st   unix.Stat_t
}

// laterName records e, a name of a multiply-linked inode: the first one seen is created,
// later ones are queued as hard links to it.
func (w *worker) laterName(dir string, e *dirEntry) bool {
	w.linksMu.Lock()
	defer w.linksMu.Unlock()
	id := fileID{e.st.Dev, e.st.Ino}
	if first, ok := w.links[id]; ok {
		w.hardLinks = append(w.hardLinks, hardLink{first: first, dir: dir, name: e.name})
		return true
	}
	w.links[id] = join(dir, e.name)
	return false
}

func (w *worker) cloneEntry(job dirJob, e *dirEntry) error {
	kind := e.st.Mode & unix.S_IFMT
	switch kind {
	case unix.S_IFREG:
		return w.copyFile(job, e)
	case unix.S_IFLNK:
		target, err := readlinkAt(job.srcFd, e.name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, job.dstFd, e.name); err != nil {
			return err
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknodat(job.dstFd, e.name, kind|e.st.Mode&0o7777, int(e.st.Rdev)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported file type %#o", kind)
	}
	return applyAtAttrs(job.srcFd, job.dstFd, e.name, &e.st)
}

// copyFile creates a regular file with the content of its source: a reflink where the
// file system can, else an in-kernel copy of each data segment.
func (w *worker) copyFile(job dirJob, e *dirEntry) error {
	in, err := unix.Openat(job.srcFd, e.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(in)
	out, err := openat2(job.dstFd, e.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, 0o600, resolveBeneath)
	if err != nil {
		return err
	}
	defer unix.Close(out)
	if e.st.Size > 0 {
		if err := w.copyContent(in, out, e.st.Size); err != nil {
			return err
		}
		w.bytes.Add(e.st.Size)
	}
	// Content first: a write drops security.capability, chown drops setuid. A new file
	// already belongs to euid:egid unless its directory is setgid.
	chown := job.setgid || int(e.st.Uid) != w.euid || int(e.st.Gid) != w.egid
	if err := applyFdAttrs(in, out, &e.st, chown); err != nil {
		return err
	}
	return setMtime(out, "", e.st.Mtim)
}

func (w *worker) copyContent(in, out int, size int64) error {
	if w.reflink.Load() {
		err := unix.IoctlFileClone(out, in)
		if err == nil {
			w.reflinked.Add(1)
			return nil
		}
		if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EXDEV) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOTTY) {
			return fmt.Errorf("clone content: %w", err)
		}
		w.reflink.Store(false) // the file system cannot: copy from now on
	}
	for off := int64(0); off < size; {
		data, err := unix.Seek(in, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		} else if err != nil {
			return fmt.Errorf("seek data: %w", err)
		}
		hole, err := unix.Seek(in, data, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("seek hole: %w", err)
		}
		if err := w.copyRange(in, out, data, hole-data); err != nil {
			return fmt.Errorf("copy content: %w", err)
		}
		off = hole
	}
	return unix.Ftruncate(out, size) // a trailing hole
}

// copyRange copies n bytes at off with copy_file_range, or read and write where the kernel
// cannot (EXDEV, EINVAL, ENOSYS on some file system pairs).
func (w *worker) copyRange(in, out int, off, n int64) error {
	roff, woff := off, off
	for n > 0 {
		m, err := unix.CopyFileRange(in, &roff, out, &woff, int(min(n, 1<<30)), 0)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
			return w.readWrite(in, out, roff, n)
		case err != nil:
			return err
		case m == 0:
			return fmt.Errorf("source shrank at offset %d", roff)
		}
		n -= int64(m)
	}
	return nil
}

func (w *worker) readWrite(in, out int, off, n int64) error {
	if w.buf == nil {
		w.buf = make([]byte, copyBufSize)
	}
	for n > 0 {
		m, err := unix.Pread(in, w.buf[:min(n, int64(len(w.buf)))], off)
		if errors.Is(err, unix.EINTR) {
			continue
		} else if err != nil {
			return err
		} else if m == 0 {
			return fmt.Errorf("source shrank at offset %d", off)
		}
		if err := pwriteAll(out, w.buf[:m], off); err != nil {
			return err
		}
		off, n = off+int64(m), n-int64(m)
	}
	return nil
}

// applyFdAttrs gives an open file or directory the owner (if chown), mode and xattrs of
// its open source, in that order: chown clears setuid and security.capability.
func applyFdAttrs(srcFd, dstFd int, st *unix.Stat_t, chown bool) error {
	if chown {
		if err := unix.Fchown(dstFd, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("chown %d:%d: %w", st.Uid, st.Gid, err)
		}
	}
	if err := unix.Fchmod(dstFd, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return copyXattrs(fdXattrs{srcFd}, fdXattrs{dstFd})
}

// applyAtAttrs does the same, and sets the mtime, for an entry that cannot be opened
// (symlink, node), by name in its directory and never followed.
func applyAtAttrs(srcDir, dstDir int, name string, st *unix.Stat_t) error {
	if err := unix.Fchownat(dstDir, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %d:%d: %w", st.Uid, st.Gid, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK { // undo mknodat's umask; a symlink has no mode
		if err := unix.Fchmodat(dstDir, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if err := copyXattrs(atXattrs{srcDir, name}, atXattrs{dstDir, name}); err != nil {
		return err
	}
	return setMtime(dstDir, name, st.Mtim)
}

// xattrOps reads and writes the extended attributes of one entry.
type xattrOps interface {
	list(buf []byte) (int, error)
	get(name string, buf []byte) (int, error)
	set(name string, value []byte) error
}

// fdXattrs is an open file or directory.
type fdXattrs struct{ fd int }

func (x fdXattrs) list(buf []byte) (int, error)          { return unix.Flistxattr(x.fd, buf) }
func (x fdXattrs) get(n string, buf []byte) (int, error) { return unix.Fgetxattr(x.fd, n, buf) }
func (x fdXattrs) set(n string, v []byte) error          { return unix.Fsetxattr(x.fd, n, v, 0) }

// atXattrs is an entry that cannot be opened (symlink, node), named through its parent's
// fd in /proc: there is no fd-relative l*xattr before Linux 6.13. Never followed.
type atXattrs struct {
	dirFd int
	name  string
}

func (x atXattrs) path() string                          { return fmt.Sprintf("/proc/self/fd/%d/%s", x.dirFd, x.name) }
func (x atXattrs) list(buf []byte) (int, error)          { return unix.Llistxattr(x.path(), buf) }
func (x atXattrs) get(n string, buf []byte) (int, error) { return unix.Lgetxattr(x.path(), n, buf) }
func (x atXattrs) set(n string, v []byte) error          { return unix.Lsetxattr(x.path(), n, v, 0) }

// copyXattrs copies every extended attribute of src to dst.
func copyXattrs(src, dst xattrOps) error {
	buf := xattrBufs.Get().(*[]byte)
	defer xattrBufs.Put(buf)
	n, err := src.list(*buf)
	if errors.Is(err, unix.EOPNOTSUPP) || (err == nil && n == 0) {
		return nil
	} else if err != nil {
		return fmt.Errorf("list xattrs: %w", err)
	}
	names := strings.Split(strings.TrimRight(string((*buf)[:n]), "\x00"), "\x00")
	slices.Sort(names)
	for _, name := range names {
		m, err := src.get(name, *buf)
		if err == nil {
			err = dst.set(name, (*buf)[:m])
		}
		if err != nil {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

// xattrBufs holds buffers of the largest xattr list or value Linux allows (64 KiB).
var xattrBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// setMtime sets the mtime of name in dirFd (of dirFd itself if name is ""), never
// following a symlink; the atime stays the creation time, as with Untar.
func setMtime(dirFd int, name string, mtime unix.Timespec) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	return unix.UtimesNanoAt(dirFd, name, []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mtime}, flags)
}

func readlinkAt(dirFd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirFd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
