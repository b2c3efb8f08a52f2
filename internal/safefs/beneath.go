//go:build linux

package safefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveBeneath confines a walk to the tree below its directory fd: no "..", no absolute
// jump, no symlink anywhere (not even one pointing inside), no /proc magic link, no mount.
const resolveBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// resolveInRoot resolves like the container would, as if the directory fd were "/":
// symlinks are followed but clamped inside it.
const resolveInRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// MaxReadSize bounds ReadFileBeneath: a container may plant a huge (sparse) file where the
// host expects a small config file.
const MaxReadSize = 256 << 20

// ErrUnsafePath marks a path refused because it leaves the tree, goes through a symlink or
// crosses a mount point; the underlying errno (ELOOP, EXDEV) is wrapped too.
var ErrUnsafePath = errors.New("unsafe path (symlink, escape or mount crossing)")

// OpenBeneath opens rel (relative, "/" prefix tolerated) beneath the directory root with
// RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS|NO_XDEV. root itself must not be a symlink.
func OpenBeneath(root, rel string, flags int, mode uint32) (*os.File, error) {
	rootFd, err := openDirNoFollow(root, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rootFd)
	fd, err := openat2(rootFd, relPath(rel), flags, mode, resolveBeneath)
	if err != nil {
		return nil, fmt.Errorf("open %s beneath %s: %w", rel, root, err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, relPath(rel))), nil
}

// ReadFileBeneath reads the regular file rel inside root, never following a symlink and
// never opening a fifo or device node (which could block or act on a host device).
func ReadFileBeneath(root, rel string) ([]byte, os.FileMode, error) {
	f, err := OpenBeneath(root, rel, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFLNK:
		return nil, 0, fmt.Errorf("read %s: %w: is a symlink", f.Name(), ErrUnsafePath)
	default:
		return nil, 0, fmt.Errorf("read %s: not a regular file", f.Name())
	}
	if st.Size > MaxReadSize {
		return nil, 0, fmt.Errorf("read %s: %d bytes is more than the %d allowed", f.Name(), st.Size, MaxReadSize)
	}
	// Reopening the O_PATH fd reads exactly the inode checked above, whatever is renamed meanwhile.
	r, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_RDONLY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: reopen: %w", f.Name(), err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxReadSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if len(data) > MaxReadSize {
		return nil, 0, fmt.Errorf("read %s: more than %d bytes", f.Name(), MaxReadSize)
	}
	return data, fileMode(st.Mode), nil
}

// WriteFileBeneath replaces rel inside root with data: a temporary file in the same
// directory (created fd-relatively), fsync, renameat over the target, fsync of the directory.
// A symlink at rel is replaced, never followed; an existing regular file keeps its owner.
// makeParents creates missing parent directories (0755) without following symlinks.
func WriteFileBeneath(root, rel string, data []byte, perm os.FileMode, makeParents bool) error {
	return writeFileBeneath(root, rel, data, perm, -1, -1, makeParents)
}

// WriteFileBeneathAs is WriteFileBeneath giving the file the owner uid:gid.
func WriteFileBeneathAs(root, rel string, data []byte, perm os.FileMode, uid, gid int, makeParents bool) error {
	if uid < 0 || gid < 0 {
		return fmt.Errorf("write %s beneath %s: owner %d:%d is not a uid and gid", rel, root, uid, gid)
	}
	return writeFileBeneath(root, rel, data, perm, uid, gid, makeParents)
}

// writeFileBeneath: uid and gid -1 keep an existing regular file's owner.
func writeFileBeneath(root, rel string, data []byte, perm os.FileMode, uid, gid int, makeParents bool) error {
	dir, base := path.Split(relPath(rel))
	if base == "" || base == "." || base == ".." {
		return fmt.Errorf("write %s beneath %s: not a file name", rel, root)
	}
	rootFd, err := openDirNoFollow(root, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(rootFd)
	var dirFd int
	if makeParents {
		dirFd, err = mkdirAllBeneath(rootFd, dir, 0o755)
	} else {
		dirFd, err = openat2(rootFd, relPath(dir), unix.O_RDONLY|unix.O_DIRECTORY, 0, resolveBeneath)
	}
	if err != nil {
		return fmt.Errorf("write %s beneath %s: parent: %w", rel, root, err)
	}
	defer unix.Close(dirFd)
	if err := replaceFileAt(dirFd, base, data, perm, uid, gid); err != nil {
		return fmt.Errorf("write %s beneath %s: %w", rel, root, err)
	}
	return nil
}

// ProbeInRoot resolves rel as the container would (absolute symlinks clamped to root) and
// reports whether it exists, is a directory, or is a regular file with an x bit.
func ProbeInRoot(root, rel string) (exists, isDir, executable bool, err error) {
	rootFd, err := openDirNoFollow(root, unix.O_PATH)
	if err != nil {
		return false, false, false, err
	}
	defer unix.Close(rootFd)
	fd, err := openat2(rootFd, relPath(rel), unix.O_PATH, 0, resolveInRoot)
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP):
		return false, false, false, nil
	case err != nil:
		return false, false, false, fmt.Errorf("probe %s in %s: %w", rel, root, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, false, false, fmt.Errorf("probe %s in %s: %w", rel, root, err)
	}
	kind := st.Mode & unix.S_IFMT
	return true, kind == unix.S_IFDIR, kind == unix.S_IFREG && st.Mode&0o111 != 0, nil
}

// replaceFileAt writes base in dirFd through a temporary name and renames it into place,
// owned by uid:gid, or (-1) by the owner of the regular file it replaces.
func replaceFileAt(dirFd int, base string, data []byte, perm os.FileMode, uid, gid int) error {
	var st unix.Stat_t
	switch err := unix.Fstatat(dirFd, base, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return unix.EISDIR
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && uid < 0:
		uid, gid = int(st.Uid), int(st.Gid)
	case err != nil && !errors.Is(err, unix.ENOENT):
		return err
	}
	tmp := tempName()
	fd, err := openat2(dirFd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, 0o600, resolveBeneath)
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	err = writeSyncClose(fd, data, uid, gid, unixMode(perm))
	if err == nil {
		err = unix.Renameat(dirFd, tmp, dirFd, base)
	}
	if err != nil {
		_ = unix.Unlinkat(dirFd, tmp, 0)
		return err
	}
	return syncFd(dirFd)
}

// writeSyncClose fills a fresh file, sets owner then mode (chown clears setuid), syncs it.
func writeSyncClose(fd int, data []byte, uid, gid int, mode uint32) error {
	f := os.NewFile(uintptr(fd), "temporary file")
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if uid >= 0 {
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// mkdirAllBeneath creates each missing component of dir below rootFd and returns a read fd
// on the last one. An existing symlink component is refused, never followed.
func mkdirAllBeneath(rootFd int, dir string, mode uint32) (int, error) {
	cur, err := openat2(rootFd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		return -1, err
	}
	for _, comp := range strings.Split(dir, "/") {
		if comp == "" || comp == "." {
			continue
		}
		if comp == ".." {
			unix.Close(cur)
			return -1, fmt.Errorf("%q: %w", dir, ErrUnsafePath)
		}
		created := true
		if err := unix.Mkdirat(cur, comp, mode); errors.Is(err, unix.EEXIST) {
			created = false
		} else if err != nil {
			unix.Close(cur)
			return -1, fmt.Errorf("mkdir %q: %w", comp, err)
		}
		next, err := openat2(cur, comp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0, resolveBeneath)
		unix.Close(cur)
		if err != nil {
			return -1, fmt.Errorf("open %q: %w", comp, err)
		}
		cur = next
		if created { // mkdirat applied the umask
			if err := unix.Fchmod(cur, mode); err != nil {
				unix.Close(cur)
				return -1, err
			}
		}
	}
	return cur, nil
}

// openat2 wraps unix.Openat2 with O_CLOEXEC, retries EINTR/EAGAIN (a concurrent rename makes
// the kernel ask for a retry) and marks refusals with ErrUnsafePath.
func openat2(dirFd int, rel string, flags int, mode uint32, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
		how.Mode = uint64(mode)
	}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirFd, rel, &how)
		switch {
		case err == nil:
			return fd, nil
		case (err == unix.EINTR || err == unix.EAGAIN) && i < 32:
			continue
		case err == unix.ELOOP || err == unix.EXDEV:
			return -1, fmt.Errorf("%w: %w", ErrUnsafePath, err)
		case err == unix.ENOSYS:
			return -1, fmt.Errorf("openat2: %w (needs Linux 5.6 or later)", err)
		default:
			return -1, err
		}
	}
}

// openDirNoFollow opens a trusted host directory; its last component must not be a symlink.
func openDirNoFollow(dir string, extra int) (int, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC|extra, 0)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR:
			continue
		case err == unix.ELOOP || err == unix.ENOTDIR:
			if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return -1, fmt.Errorf("open %s: %w: is a symlink", dir, ErrUnsafePath)
			}
			return -1, fmt.Errorf("open %s: %w", dir, err)
		default:
			return -1, fmt.Errorf("open %s: %w", dir, err)
		}
	}
}

// relPath turns "/etc/x" or "etc/x" into "etc/x", and "" or "/" into ".".
func relPath(rel string) string {
	rel = strings.TrimLeft(rel, "/")
	if rel == "" {
		return "."
	}
	return rel
}

func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return ".reinstall-tmp-" + hex.EncodeToString(b[:])
}

// unixMode converts permission, setuid, setgid and sticky bits of an os.FileMode.
func unixMode(m os.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		mode |= unix.S_ISUID
	}
	if m&os.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	if m&os.ModeSticky != 0 {
		mode |= unix.S_ISVTX
	}
	return mode
}

// fileMode is the inverse of unixMode for the permission part of st_mode.
func fileMode(mode uint32) os.FileMode {
	m := os.FileMode(mode & 0o777)
	if mode&unix.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if mode&unix.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}
