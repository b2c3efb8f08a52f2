//go:build linux

package safefs

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	holeBlock = 4096     // zero detection granularity, aligned to file offsets
	minHole   = 64 << 10 // shorter zero runs are written, to keep files unfragmented
)

var zeroBlock [minHole]byte

// makeDir creates a directory (an existing one is kept) and sets owner, mode and xattrs;
// its mtime is set in finish.
func (x *extractor) makeDir(pfd int, base, name string, hdr *tar.Header) error {
	err := unix.Mkdirat(pfd, base, 0o700)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			err = x.replace(pfd, base, func() error { return unix.Mkdirat(pfd, base, 0o700) })
		}
	}
	if err != nil {
		return err
	}
	fd, err := openat2(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0, resolveBeneath)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := setOwnerModeXattrs(fd, hdr); err != nil {
		return err
	}
	x.dirs = append(x.dirs, dirTime{name: name, mtime: hdr.ModTime})
	return nil
}

// writeFile writes a regular file, leaving long zero runs as holes.
func (x *extractor) writeFile(pfd int, base string, hdr *tar.Header, r io.Reader) error {
	var fd int
	err := x.create(pfd, base, func() (err error) {
		fd, err = openat2(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, 0o600, resolveBeneath)
		return err
	})
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := x.copyContent(fd, r); err != nil {
		return err
	}
	// Content first: a write drops security.capability, chown drops setuid.
	if err := setOwnerModeXattrs(fd, hdr); err != nil {
		return err
	}
	return setTimes(pfd, base, hdr.ModTime)
}

func (x *extractor) copyContent(fd int, r io.Reader) error {
	w := holeWriter{fd: fd}
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		n, err := fill(r, x.buf)
		if n > 0 {
			if werr := w.write(x.buf[:n]); werr != nil {
				return werr
			}
			x.stats.Bytes += int64(n)
			x.report(false)
		}
		if err == io.EOF {
			return w.finish()
		} else if err != nil {
			return err
		}
	}
}

// makeSymlink creates a symlink; its target is stored verbatim and never resolved here.
func (x *extractor) makeSymlink(pfd int, base string, hdr *tar.Header) error {
	err := x.create(pfd, base, func() error { return unix.Symlinkat(hdr.Linkname, pfd, base) })
	if err != nil {
		return err
	}
	return setAttrsAt(pfd, base, hdr, false)
}

// makeHardLink links to an entry already extracted; the target's parents are opened with
// resolveBeneath, so a target outside dest or through a symlink is refused.
func (x *extractor) makeHardLink(pfd int, base string, hdr *tar.Header) error {
	target, err := cleanName(hdr.Linkname)
	if err == nil && target == "." {
		err = errors.New("is the archive root")
	}
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", shortName(hdr.Linkname), err)
	}
	tdir, tbase := splitName(target)
	tfd, err := openat2(x.destFd, tdir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", shortName(hdr.Linkname), err)
	}
	defer unix.Close(tfd)
	// flags 0: a symlink target is linked itself, not followed.
	err = x.create(pfd, base, func() error { return unix.Linkat(tfd, tbase, pfd, base, 0) })
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", shortName(hdr.Linkname), err)
	}
	return nil
}

// makeNode creates a character or block device node or a fifo; it is never opened.
func (x *extractor) makeNode(pfd int, base string, hdr *tar.Header) error {
	kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
	dev := 0
	if hdr.Typeflag != tar.TypeFifo {
		dev = int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	}
	err := x.create(pfd, base, func() error { return unix.Mknodat(pfd, base, kind|tarMode(hdr), dev) })
	if err != nil {
		return err
	}
	return setAttrsAt(pfd, base, hdr, true)
}

// create runs mk and, if the name exists (a later duplicate entry), replaces it.
func (x *extractor) create(pfd int, base string, mk func() error) error {
	err := mk()
	if errors.Is(err, unix.EEXIST) {
		return x.replace(pfd, base, mk)
	}
	return err
}

// replace removes the existing base (an empty directory at most) and runs mk again.
func (x *extractor) replace(pfd int, base string, mk func() error) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	flags := 0
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		flags = unix.AT_REMOVEDIR
		x.dropParent() // the cached parent may be the directory going away
	}
	if err := unix.Unlinkat(pfd, base, flags); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	return mk()
}

// setOwnerModeXattrs applies owner, then mode (chown clears setuid), then xattrs
// (chown clears security.capability) to an open file or directory.
func setOwnerModeXattrs(fd int, hdr *tar.Header) error {
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	if err := unix.Fchmod(fd, tarMode(hdr)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for _, xa := range xattrs(hdr) {
		if err := unix.Fsetxattr(fd, xa.name, xa.value, 0); err != nil {
			return fmt.Errorf("xattr %s: %w", xa.name, err)
		}
	}
	return nil
}

// setAttrsAt sets owner, (mode), xattrs and mtime of an entry that cannot be opened
// (symlink, device, fifo), by name in its parent, never following it.
func setAttrsAt(pfd int, base string, hdr *tar.Header, chmod bool) error {
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	// Nodes only (never a symlink); after chown, and undoing the umask of mknodat.
	if chmod {
		if err := unix.Fchmodat(pfd, base, tarMode(hdr), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	// No fd-relative lsetxattr before Linux 6.13: go through the parent's fd in /proc.
	for _, xa := range xattrs(hdr) {
		p := fmt.Sprintf("/proc/self/fd/%d/%s", pfd, base)
		if err := unix.Lsetxattr(p, xa.name, xa.value, 0); err != nil {
			return fmt.Errorf("xattr %s: %w", xa.name, err)
		}
	}
	return setTimes(pfd, base, hdr.ModTime)
}

// setTimes sets the mtime of base in dirFd (of dirFd itself if base is ""), never following
// a symlink. The atime is left at creation time, as GNU tar does.
func setTimes(dirFd int, base string, mtime time.Time) error {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())}}
	flags := unix.AT_SYMLINK_NOFOLLOW
	if base == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	return unix.UtimesNanoAt(dirFd, base, ts, flags)
}

// tarMode is the permission part of a header's mode, with setuid, setgid and sticky.
func tarMode(hdr *tar.Header) uint32 { return uint32(hdr.Mode) & 0o7777 }

type xattr struct {
	name  string
	value []byte
}

// xattrs collects extended attributes from PAX records: GNU tar's "SCHILY.xattr.<name>"
// (raw value) and libarchive's "LIBARCHIVE.xattr.<%-encoded name>" (base64 value).
func xattrs(hdr *tar.Header) []xattr {
	found := map[string][]byte{}
	for key, value := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(key, "LIBARCHIVE.xattr."); ok {
			n, err1 := url.PathUnescape(name)
			v, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(value, "="))
			if err1 == nil && err2 == nil {
				found[n] = v
			}
		}
	}
	for key, value := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			found[name] = []byte(value)
		}
	}
	out := make([]xattr, 0, len(found))
	for name, value := range found {
		out = append(out, xattr{name, value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// fill reads until buf is full or r fails; io.EOF means the content ended.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// holeWriter writes file content at explicit offsets and skips block-aligned zero runs of
// at least minHole bytes, which stay holes (finish sets the size). Every chunk but the
// last must be a multiple of holeBlock.
type holeWriter struct {
	fd      int
	off     int64 // offset of the next byte
	zeroRun int64 // zero bytes just before off, not written yet
}

func (w *holeWriter) write(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), holeBlock)
		if isZero(p[:n]) {
			w.zeroRun += int64(n)
			w.off += int64(n)
			p = p[n:]
			continue
		}
		for n < len(p) { // extend the data run up to the next zero block
			m := min(len(p)-n, holeBlock)
			if isZero(p[n : n+m]) {
				break
			}
			n += m
		}
		if err := w.flushZeros(); err != nil {
			return err
		}
		if err := pwriteAll(w.fd, p[:n], w.off); err != nil {
			return err
		}
		w.off += int64(n)
		p = p[n:]
	}
	return nil
}

// flushZeros writes a pending zero run too short to be worth a hole.
func (w *holeWriter) flushZeros() error {
	run := w.zeroRun
	w.zeroRun = 0
	if run == 0 || run >= minHole {
		return nil
	}
	return pwriteAll(w.fd, zeroBlock[:run], w.off-run)
}

func (w *holeWriter) finish() error {
	tailHole := w.zeroRun >= minHole
	if err := w.flushZeros(); err != nil || !tailHole {
		return err
	}
	return unix.Ftruncate(w.fd, w.off)
}

func isZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }

func pwriteAll(fd int, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := unix.Pwrite(fd, p, off)
		if errors.Is(err, unix.EINTR) {
			continue
		} else if err != nil {
			return err
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}
