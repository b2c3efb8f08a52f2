package copyfromold

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// beneath confines every lookup below a directory fd: no symlink, no "..",
// no mount crossing. Both areas are walked one component at a time with it
// or with O_NOFOLLOW, so nothing the old (untrusted) or the running new
// container planted can send a copy outside its area (contract §6).
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// copier copies entries from the old area (src) into the new one (dst).
type copier struct {
	src, dst int    // directory fds of the two areas
	srcDev   uint64 // entries on another file system are not copied
	// links maps a multiply-linked source file (dev, ino) to its copy,
	// relative to dst, so hard links stay hard links.
	links   map[[2]uint64]string
	entries int
	skipped []string // what was left out, for the log
}

func newCopier(src, dst string) (*copier, error) {
	sfd, err := unix.Open(src, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the old private area %s: %w", src, err)
	}
	dfd, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(sfd)
		return nil, fmt.Errorf("open the new private area %s: %w", dst, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil {
		unix.Close(sfd)
		unix.Close(dfd)
		return nil, err
	}
	return &copier{src: sfd, dst: dfd, srcDev: st.Dev, links: map[[2]uint64]string{}}, nil
}

func (c *copier) close() {
	unix.Syncfs(c.dst)
	unix.Close(c.src)
	unix.Close(c.dst)
}

// copyPath copies rel (a glob match) into the same place in the new area,
// creating missing parent directories as they are in the old area.
func (c *copier) copyPath(rel string) error {
	sfd, dfd, err := c.parents(path.Dir(rel))
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	defer unix.Close(dfd)
	return c.copyEntry(sfd, dfd, path.Base(rel), rel)
}

// parents walks dir in both areas, creating what the new area lacks with the
// old area's owner and mode, and returns both directories' fds.
func (c *copier) parents(dir string) (sfd, dfd int, err error) {
	if sfd, err = unix.Dup(c.src); err != nil {
		return -1, -1, err
	}
	if dfd, err = unix.Dup(c.dst); err != nil {
		unix.Close(sfd)
		return -1, -1, err
	}
	if dir == "." {
		return sfd, dfd, nil
	}
	walked := ""
	for _, comp := range strings.Split(dir, "/") {
		walked = path.Join(walked, comp)
		nsfd, err := openDir(sfd, comp)
		if err != nil {
			unix.Close(sfd)
			unix.Close(dfd)
			return -1, -1, fmt.Errorf("%s in the old private area: %w", show(walked), err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(nsfd, &st); err != nil {
			unix.Close(nsfd)
			unix.Close(sfd)
			unix.Close(dfd)
			return -1, -1, err
		}
		ndfd, err := c.ensureDir(dfd, comp, walked, &st)
		unix.Close(sfd)
		unix.Close(dfd)
		if err != nil {
			unix.Close(nsfd)
			return -1, -1, err
		}
		sfd, dfd = nsfd, ndfd
	}
	return sfd, dfd, nil
}

// ensureDir opens the directory name in the new area, creating it with
// st's owner and mode if it is missing. A symlink or file there is refused.
func (c *copier) ensureDir(dfd int, name, rel string, st *unix.Stat_t) (int, error) {
	fd, err := openDir(dfd, name)
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdirat(dfd, name, st.Mode&0o7777); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("create %s in the new private area: %w", show(rel), err)
		}
		if fd, err = openDir(dfd, name); err == nil {
			err = setOwnerMode(fd, st)
		}
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return -1, fmt.Errorf("%s in the new private area is a symlink or not a directory: it is not followed or replaced", show(rel))
	}
	if err != nil {
		return -1, fmt.Errorf("%s in the new private area: %w", show(rel), err)
	}
	return fd, nil
}

// copyEntry copies the entry name of directory sfd into directory dfd.
func (c *copier) copyEntry(sfd, dfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", show(rel), err)
	}
	if st.Dev != c.srcDev {
		c.skipped = append(c.skipped, fmt.Sprintf("%s is on another file system: not copied", show(rel)))
		return nil
	}
	c.entries++
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return c.copyDir(sfd, dfd, name, rel, &st)
	case unix.S_IFREG:
		return c.copyFile(sfd, dfd, name, rel, &st)
	case unix.S_IFLNK:
		target := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(sfd, name, target)
		if err != nil {
			return fmt.Errorf("%s: %w", show(rel), err)
		}
		return c.createAndReplace(dfd, name, rel, &st, func(tmp string) error {
			return unix.Symlinkat(string(target[:n]), dfd, tmp)
		})
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		return c.createAndReplace(dfd, name, rel, &st, func(tmp string) error {
			return unix.Mknodat(dfd, tmp, st.Mode, int(st.Rdev))
		})
	default:
		c.entries--
		c.skipped = append(c.skipped, fmt.Sprintf("%s is a socket: not copied", show(rel)))
		return nil
	}
}

// copyFile copies a regular file to a temporary name next to its place,
// then renames it over whatever is there; a second link to a file already
// copied becomes a hard link to the copy.
func (c *copier) copyFile(sfd, dfd int, name, rel string, st *unix.Stat_t) error {
	key := [2]uint64{st.Dev, st.Ino}
	if first, ok := c.links[key]; ok && st.Nlink > 1 {
		return c.createAndReplace(dfd, name, rel, nil, func(tmp string) error {
			dir, base := path.Split(first)
			tfd, err := unix.Openat2(c.dst, "./"+dir, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath})
			if err != nil {
				return err
			}
			defer unix.Close(tfd)
			return unix.Linkat(tfd, base, dfd, tmp, 0)
		})
	}
	// contract §6: check an O_PATH fd, then reopen that very inode, so a
	// device node or fifo swapped in by the running container is never opened.
	pfd, err := unix.Openat(sfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s in the old private area: %w", show(rel), err)
	}
	var check unix.Stat_t
	if err := unix.Fstat(pfd, &check); err != nil || check.Ino != st.Ino || check.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(pfd)
		return fmt.Errorf("%s changed while it was being copied", show(rel))
	}
	in, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", pfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Close(pfd)
	if err != nil {
		return fmt.Errorf("%s in the old private area: %w", show(rel), err)
	}
	inFile := os.NewFile(uintptr(in), rel)
	defer inFile.Close()
	err = c.createAndReplace(dfd, name, rel, nil, func(tmp string) error {
		out, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		outFile := os.NewFile(uintptr(out), tmp)
		defer outFile.Close()
		if _, err := io.Copy(outFile, inFile); err != nil {
			return err
		}
		if err := setOwnerMode(out, st); err != nil {
			return err
		}
		if err := copyXattrs(in, out); err != nil {
			return err
		}
		return setTimes(out, st)
	})
	if err == nil && st.Nlink > 1 && !strings.Contains(rel, "…") { // a shortened path cannot be opened again
		c.links[key] = rel
	}
	return err
}

// createAndReplace makes an entry at a temporary name with mk, gives it
// st's owner and times (when st is set: links and nodes), and renames it
// over name. An empty directory in the way is removed; a non-empty one is
// an error.
func (c *copier) createAndReplace(dfd int, name, rel string, st *unix.Stat_t, mk func(tmp string) error) error {
	tmp := tempName()
	if err := mk(tmp); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("%s in the new private area: %w", show(rel), err)
	}
	if st != nil {
		err := unix.Fchownat(dfd, tmp, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
		if err == nil {
			err = unix.UtimesNanoAt(dfd, tmp, times(st), unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			unix.Unlinkat(dfd, tmp, 0)
			return fmt.Errorf("%s in the new private area: %w", show(rel), err)
		}
	}
	err := unix.Renameat(dfd, tmp, dfd, name)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		if unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR) == nil {
			err = unix.Renameat(dfd, tmp, dfd, name)
		} else {
			err = fmt.Errorf("the new private area has a non-empty directory there; it is not replaced")
		}
	}
	if err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("%s in the new private area: %w", show(rel), err)
	}
	return nil
}

func openDir(dirfd int, name string) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// readNames lists a directory fd's entries, sorted.
func readNames(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

// setOwnerMode gives an open file or directory st's owner, then its mode
// (chown clears set-id bits, so the mode comes last).
func setOwnerMode(fd int, st *unix.Stat_t) error {
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return unix.Fchmod(fd, st.Mode&0o7777)
}

// copyXattrs copies every extended attribute the destination's file system
// takes.
func copyXattrs(from, to int) error {
	buf := make([]byte, 64<<10)
	n, err := unix.Flistxattr(from, buf)
	if err != nil || n == 0 {
		return nil // none, or not supported
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		val := make([]byte, 64<<10)
		m, err := unix.Fgetxattr(from, name, val)
		if err != nil {
			continue
		}
		if err := unix.Fsetxattr(to, name, val[:m], 0); err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

// setTimes gives an open file st's access and modification times, through
// its /proc/self/fd link (futimens, which x/sys does not wrap).
func setTimes(fd int, st *unix.Stat_t) error {
	return unix.UtimesNanoAt(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), times(st), 0)
}

func times(st *unix.Stat_t) []unix.Timespec {
	return []unix.Timespec{st.Atim, st.Mtim}
}

func tempName() string {
	var b [6]byte
	rand.Read(b[:])
	return ".copy-from-old-" + hex.EncodeToString(b[:])
}
