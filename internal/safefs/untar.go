//go:build linux

package safefs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Stats counts what Untar has written so far.
type Stats struct {
	Files int64 // entries written (files, directories, links, nodes)
	Bytes int64 // bytes of regular file content
	Read  int64 // bytes of the archive read so far: in Untar's progress reports while it runs, 0 in its result
}

const (
	progressEvery   = 100 * time.Millisecond
	maxNameLen      = unix.PathMax - 1
	maxComponentLen = 255
	copyBufSize     = 1 << 20 // a multiple of holeBlock, so chunks stay block aligned
)

// Untar unpacks the template cache archive (compression by suffix) into dest, an existing
// empty directory, "as if created by pctl create" (contract §2.1): numeric owners, modes,
// mtimes, xattrs, hard links, holes, device nodes, fifos, symlinks. Every entry is created
// relative to a dest fd through parents opened with resolveBeneath, so nothing can land
// outside. dest is 0700 while unpacking and takes the mode and owner of the archive's "./"
// entry (else 0755) at the end. On any error the content of dest is removed again.
// progress may be nil; it is called at most every 100ms, and once at the end.
func Untar(ctx context.Context, archive, dest string, progress func(Stats)) (Stats, error) {
	destFd, err := openEmptyDir(dest)
	if err != nil {
		return Stats{}, fmt.Errorf("untar %s: %w", archive, err)
	}
	defer unix.Close(destFd)
	x := &extractor{ctx: ctx, archive: archive, destFd: destFd, progress: progress, parentFd: -1}
	err = x.extractAll()
	x.dropParent()
	if err != nil {
		if cerr := removeContents(destFd); cerr != nil {
			err = errors.Join(err, fmt.Errorf("untar %s: cleaning up %s: %w", archive, dest, cerr))
		}
		return x.stats, err
	}
	return x.stats, nil
}

// extractor is the state of one Untar run.
type extractor struct {
	ctx      context.Context
	archive  string
	destFd   int
	progress func(Stats)
	stream   io.Reader // the decompressed archive, for Stats.Read

	stats      Stats
	lastReport time.Time
	buf        []byte
	root       *tar.Header // the "./" entry, applied to dest at the end
	dirs       []dirTime   // directory mtimes, applied at the end

	parentDir string // the last parent directory opened, kept open for the next entries
	parentFd  int
}

type dirTime struct {
	name  string
	mtime time.Time
}

func (x *extractor) extractAll() error {
	// contract §2.1: 0700 while unpacking.
	if err := unix.Fchmod(x.destFd, 0o700); err != nil {
		return fmt.Errorf("untar %s: chmod destination: %w", x.archive, err)
	}
	rc, err := Decompress(x.archive)
	if err != nil {
		return fmt.Errorf("untar: %w", err)
	}
	defer rc.Close()
	x.stream = rc
	x.buf = make([]byte, copyBufSize)
	tr := tar.NewReader(rc)
	for {
		if err := x.ctx.Err(); err != nil {
			return fmt.Errorf("untar %s: %w", x.archive, err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("untar %s: reading archive: %w", x.archive, err)
		}
		if err := x.extract(hdr, tr); err != nil {
			return fmt.Errorf("untar %s: entry %q: %w", x.archive, shortName(hdr.Name), err)
		}
		x.report(false)
	}
	// Reading to the end makes gzip, xz, zstd and bzip2 verify their checksums.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("untar %s: reading archive: %w", x.archive, err)
	}
	if err := x.finish(); err != nil {
		return fmt.Errorf("untar %s: %w", x.archive, err)
	}
	if err := unix.Syncfs(x.destFd); err != nil {
		return fmt.Errorf("untar %s: syncfs: %w", x.archive, err)
	}
	x.report(true)
	return nil
}

// extract creates one entry.
func (x *extractor) extract(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // pax global metadata (e.g. git archive's comment), not a file
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("the archive root is not a directory")
		}
		x.root = hdr
		return nil
	}
	dir, base := splitName(name)
	pfd, err := x.parent(dir)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = x.makeDir(pfd, base, name, hdr)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		err = x.writeFile(pfd, base, hdr, r)
	case tar.TypeSymlink:
		err = x.makeSymlink(pfd, base, hdr)
	case tar.TypeLink:
		err = x.makeHardLink(pfd, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		err = x.makeNode(pfd, base, hdr)
	default:
		err = fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
	if err == nil {
		x.stats.Files++
		faultPoint("untar", x.stats.Files)
	}
	return err
}

// parent returns an fd of the directory dir inside dest, creating missing directories
// (archives may omit them). A symlink on the way is refused by resolveBeneath.
func (x *extractor) parent(dir string) (int, error) {
	if dir == "." {
		return x.destFd, nil
	}
	if x.parentFd >= 0 && x.parentDir == dir {
		return x.parentFd, nil
	}
	x.dropParent()
	fd, err := openat2(x.destFd, dir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
	if errors.Is(err, unix.ENOENT) {
		fd, err = mkdirAllBeneath(x.destFd, dir, 0o755)
	}
	if err != nil {
		return -1, fmt.Errorf("parent directory %q: %w", shortName(dir), err)
	}
	x.parentDir, x.parentFd = dir, fd
	return fd, nil
}

func (x *extractor) dropParent() {
	if x.parentFd >= 0 {
		unix.Close(x.parentFd)
	}
	x.parentDir, x.parentFd = "", -1
}

// finish sets directory mtimes (creating entries changed them) and the mode, owner,
// xattrs and mtime of dest itself from the "./" entry.
func (x *extractor) finish() error {
	x.dropParent()
	for _, d := range x.dirs {
		dir, base := splitName(d.name)
		pfd, err := openat2(x.destFd, dir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
		if err != nil {
			return fmt.Errorf("directory %q: %w", shortName(d.name), err)
		}
		var st unix.Stat_t
		err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR { // not replaced by a later entry
			err = setTimes(pfd, base, d.mtime)
		}
		unix.Close(pfd)
		if err != nil {
			return fmt.Errorf("directory %q: mtime: %w", shortName(d.name), err)
		}
	}
	// contract §2.1: dest takes the mode of the archive's "./" entry, else 0755.
	if x.root == nil {
		if err := unix.Fchmod(x.destFd, 0o755); err != nil {
			return fmt.Errorf("chmod destination: %w", err)
		}
		return nil
	}
	if err := setOwnerModeXattrs(x.destFd, x.root); err != nil {
		return fmt.Errorf("entry %q: %w", x.root.Name, err)
	}
	if err := setTimes(x.destFd, "", x.root.ModTime); err != nil {
		return fmt.Errorf("entry %q: mtime: %w", x.root.Name, err)
	}
	return nil
}

func (x *extractor) report(final bool) {
	if x.progress == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(x.lastReport) < progressEvery {
		return
	}
	x.lastReport = now
	s := x.stats
	if !final {
		s.Read = archiveRead(x.stream)
	}
	x.progress(s)
}

// cleanName turns an entry name into a clean relative path ("./a//b" -> "a/b", "./" -> "."),
// refusing absolute names, ".." components and names the kernel would reject.
func cleanName(raw string) (string, error) {
	switch {
	case raw == "":
		return "", errors.New("empty name")
	case strings.HasPrefix(raw, "/"):
		return "", fmt.Errorf("absolute name: %w", ErrUnsafePath)
	case strings.ContainsRune(raw, 0):
		return "", errors.New("name contains a NUL byte")
	}
	for _, comp := range strings.Split(raw, "/") {
		if comp == ".." {
			return "", fmt.Errorf(`name contains "..": %w`, ErrUnsafePath)
		}
		if len(comp) > maxComponentLen {
			return "", fmt.Errorf("a name component is %d bytes, more than %d: %w", len(comp), maxComponentLen, unix.ENAMETOOLONG)
		}
	}
	name := path.Clean(raw)
	if len(name) > maxNameLen {
		return "", fmt.Errorf("name is %d bytes, more than %d: %w", len(name), maxNameLen, unix.ENAMETOOLONG)
	}
	return name, nil
}

// splitName splits a clean relative name into its directory ("." at the top) and base.
func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

// shortName keeps error messages readable for absurdly long entry names.
func shortName(name string) string {
	const limit = 200
	if len(name) <= limit {
		return name
	}
	return name[:limit] + fmt.Sprintf("...(%d bytes)", len(name))
}

// openEmptyDir opens dest (not a symlink) and checks it is empty: on failure Untar removes
// everything in it, which must only ever be what it wrote itself.
func openEmptyDir(dest string) (int, error) {
	fd, err := openDirNoFollow(dest, 0)
	if err != nil {
		return -1, err
	}
	probeFd, err := openat2(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: %w", dest, err)
	}
	probe := os.NewFile(uintptr(probeFd), dest)
	names, err := probe.Readdirnames(1)
	probe.Close()
	switch {
	case err != nil && err != io.EOF:
		unix.Close(fd)
		return -1, fmt.Errorf("read %s: %w", dest, err)
	case len(names) > 0:
		unix.Close(fd)
		return -1, fmt.Errorf("destination %s is not empty", dest)
	}
	return fd, nil
}
