//go:build linux

package safefs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// CloneStats counts what CloneTree has done.
type CloneStats struct {
	Stats
	Reflinked int64 // regular files whose content is shared with the source (FICLONE)
}

// cloneWorkers create files in parallel: most of a clone's time is spent in the file
// system's per-inode work (create, FICLONE, attributes), which overlaps well.
const cloneWorkers = 4

// cloneChunk is the most entries of one directory a worker takes at a time.
const cloneChunk = 64

// CanReflink reports whether the file system holding dir shares file content between
// files (FICLONE: btrfs, xfs with reflink=1); ext4 cannot. It leaves nothing behind.
func CanReflink(dir string) bool {
	a, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer unix.Close(a)
	b, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer unix.Close(b)
	if _, err := unix.Pwrite(a, make([]byte, holeBlock), 0); err != nil {
		return false
	}
	return unix.IoctlFileClone(b, a) == nil
}

// CloneTree copies the tree src into dest, an existing empty directory, keeping what Untar
// keeps: numeric owners, modes, mtimes, xattrs, hard links, holes, device nodes, fifos and
// symlinks. File content is shared with FICLONE where the file system can reflink, else
// copied in the kernel (copy_file_range) data segment by data segment, so holes stay holes.
// src is trusted (a template cache this host unpacked); dest is written fd-relatively and
// never through a symlink. dest is 0700 while cloning and takes the owner, mode, xattrs and
// mtime of src at the end; on any error its content is removed again. There is no per-file
// fsync, one syncfs at the end. progress may be nil; it is called at most every 100ms.
func CloneTree(ctx context.Context, src, dest string, progress func(Stats)) (CloneStats, error) {
	srcFd, err := openDirNoFollow(src, 0)
	if err != nil {
		return CloneStats{}, fmt.Errorf("clone %s: %w", src, err)
	}
	defer unix.Close(srcFd)
	destFd, err := openEmptyDir(dest)
	if err != nil {
		return CloneStats{}, fmt.Errorf("clone %s: %w", src, err)
	}
	defer unix.Close(destFd)
	c := &cloner{destFd: destFd, progress: progress, links: map[fileID]string{}, euid: os.Geteuid(), egid: os.Getegid()}
	c.reflink.Store(true)
	err = c.cloneAll(ctx, srcFd)
	stats := c.snapshot()
	if err != nil {
		if cerr := removeContents(destFd); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up %s: %w", dest, cerr))
		}
		return stats, fmt.Errorf("clone %s into %s: %w", src, dest, err)
	}
	return stats, nil
}

type fileID struct{ dev, ino uint64 }

// cloner is the state of one CloneTree run. One walker creates the directories (with
// their owner, mode and xattrs) and hands each directory's other entries to workers;
// later names of hard links and directory mtimes come last.
type cloner struct {
	destFd     int
	euid, egid int
	reflink    atomic.Bool // cleared after the first FICLONE the file system refuses

	files, bytes, reflinked atomic.Int64

	reportMu   sync.Mutex
	progress   func(Stats)
	lastReport time.Time

	linksMu   sync.Mutex
	links     map[fileID]string // first dest path of each multiply-linked source inode
	hardLinks []hardLink        // later names, linked once every first name exists

	dirTimes []dirMtime // walker only, in walk order: parents before children
}

// dirJob is one directory's non-directory entries, for a worker. The worker closes the fds.
type dirJob struct {
	srcFd, dstFd int
	rel          string
	setgid       bool // new entries take the directory's group: always chown
	names        []string
}

type hardLink struct{ first, dir, name string }

type dirMtime struct {
	rel   string
	mtime unix.Timespec
}

func (c *cloner) cloneAll(ctx context.Context, srcFd int) error {
	// contract §2.1: 0700 while unpacking.
	if err := unix.Fchmod(c.destFd, 0o700); err != nil {
		return fmt.Errorf("chmod destination: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan dirJob, 2*cloneWorkers)
	var wg sync.WaitGroup
	for range cloneWorkers {
		wg.Go(func() {
			w := worker{cloner: c}
			for job := range jobs {
				if ctx.Err() == nil {
					if err := w.cloneEntries(ctx, job); err != nil {
						cancel(err)
					}
				}
				unix.Close(job.srcFd)
				unix.Close(job.dstFd)
			}
		})
	}
	walkErr := c.walk(ctx, srcFd, c.destFd, "", jobs)
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if walkErr != nil {
		return walkErr
	}
	return c.finish(ctx, srcFd)
}

// walk creates the directories below srcFd in dstFd, depth first, and queues the other
// entries of each directory as one job. It reads only names and types (getdents):
// the workers stat the entries, so that on a cold cache their inode reads overlap.
func (c *cloner) walk(ctx context.Context, srcFd, dstFd int, rel string, jobs chan<- dirJob) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	ents, err := readDir(srcFd)
	if err != nil {
		return fmt.Errorf("%q: %w", shortName(rel), err)
	}
	var dstSt unix.Stat_t
	if err := unix.Fstat(dstFd, &dstSt); err != nil {
		return err
	}
	var names, dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		} else {
			names = append(names, e.Name())
		}
	}
	// Big directories (usr/bin) are shared out in chunks, so every worker gets some.
	for chunk := range slices.Chunk(names, cloneChunk) {
		job := dirJob{rel: rel, setgid: dstSt.Mode&unix.S_ISGID != 0, names: chunk}
		if err := queue(ctx, jobs, job, srcFd, dstFd); err != nil {
			return err
		}
	}
	for _, name := range dirs {
		if err := c.cloneDir(ctx, srcFd, dstFd, rel, name, jobs); err != nil {
			return err
		}
	}
	return nil
}

// queue hands job to a worker with its own fds of the two directories.
func queue(ctx context.Context, jobs chan<- dirJob, job dirJob, srcFd, dstFd int) error {
	var err error
	if job.srcFd, err = dupFd(srcFd); err != nil {
		return err
	}
	if job.dstFd, err = dupFd(dstFd); err != nil {
		unix.Close(job.srcFd)
		return err
	}
	select {
	case jobs <- job:
		return nil
	case <-ctx.Done():
		unix.Close(job.srcFd)
		unix.Close(job.dstFd)
		return context.Cause(ctx)
	}
}

// cloneDir creates one directory with the owner, mode and xattrs of its source and walks
// into it; its mtime is set in finish, once nothing is created in it any more.
func (c *cloner) cloneDir(ctx context.Context, srcFd, dstFd int, rel, name string, jobs chan<- dirJob) error {
	path := join(rel, name)
	sub, err := unix.Openat(srcFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%q: %w", shortName(path), err)
	}
	defer unix.Close(sub)
	var st unix.Stat_t
	if err := unix.Fstat(sub, &st); err != nil {
		return fmt.Errorf("%q: %w", shortName(path), err)
	}
	if err := unix.Mkdirat(dstFd, name, 0o700); err != nil {
		return fmt.Errorf("%q: %w", shortName(path), err)
	}
	dsub, err := openat2(dstFd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0, resolveBeneath)
	if err != nil {
		return fmt.Errorf("%q: %w", shortName(path), err)
	}
	defer unix.Close(dsub)
	if err := applyFdAttrs(sub, dsub, &st, true); err != nil {
		return fmt.Errorf("%q: %w", shortName(path), err)
	}
	c.dirTimes = append(c.dirTimes, dirMtime{rel: path, mtime: st.Mtim})
	c.files.Add(1)
	return c.walk(ctx, sub, dsub, path, jobs)
}

// finish makes the second names of hard links, sets directory mtimes (children first)
// and the attributes of dest itself, then syncs the file system once.
func (c *cloner) finish(ctx context.Context, srcFd int) error {
	for _, l := range c.hardLinks {
		if err := c.link(l); err != nil {
			return fmt.Errorf("%q: %w", shortName(join(l.dir, l.name)), err)
		}
		c.files.Add(1)
	}
	for i := len(c.dirTimes) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := c.dirTimes[i]
		dir, base := splitName(d.rel)
		pfd, err := openat2(c.destFd, dir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
		if err == nil {
			err = setMtime(pfd, base, d.mtime)
			unix.Close(pfd)
		}
		if err != nil {
			return fmt.Errorf("%q: mtime: %w", shortName(d.rel), err)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(srcFd, &st); err != nil {
		return err
	}
	if err := applyFdAttrs(srcFd, c.destFd, &st, true); err != nil {
		return fmt.Errorf("root: %w", err)
	}
	if err := setMtime(c.destFd, "", st.Mtim); err != nil {
		return fmt.Errorf("root: mtime: %w", err)
	}
	if err := unix.Syncfs(c.destFd); err != nil {
		return fmt.Errorf("syncfs: %w", err)
	}
	c.report(true)
	return nil
}

// link makes a later name of a multiply-linked inode, linking to its first name.
func (c *cloner) link(l hardLink) error {
	tdir, tbase := splitName(l.first)
	tfd, err := openat2(c.destFd, tdir, unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", shortName(l.first), err)
	}
	defer unix.Close(tfd)
	dfd, err := openat2(c.destFd, relPath(l.dir), unix.O_PATH|unix.O_DIRECTORY, 0, resolveBeneath)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	// flags 0: a symlink is linked itself, not followed.
	if err := unix.Linkat(tfd, tbase, dfd, l.name, 0); err != nil {
		return fmt.Errorf("hard link to %q: %w", shortName(l.first), err)
	}
	return nil
}

func (c *cloner) snapshot() CloneStats {
	return CloneStats{Stats: Stats{Files: c.files.Load(), Bytes: c.bytes.Load()}, Reflinked: c.reflinked.Load()}
}

func (c *cloner) report(final bool) {
	if c.progress == nil {
		return
	}
	c.reportMu.Lock()
	defer c.reportMu.Unlock()
	now := time.Now()
	if !final && now.Sub(c.lastReport) < progressEvery {
		return
	}
	c.lastReport = now
	c.progress(c.snapshot().Stats)
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func dupFd(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// readDir lists the directory fd by name with the types getdents reports, without
// consuming the fd.
func readDir(fd int) ([]os.DirEntry, error) {
	dup, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), ".")
	defer f.Close()
	return f.ReadDir(-1) // sorted by name
}
