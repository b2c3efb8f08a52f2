package testenv

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Canaries are host files and directories outside a private area that hostile
// trees aim at. Armed, every one has its atime set an hour before its mtime, so
// that a read updates it even under relatime; Check then reports any entry that
// was read (atime), written (mtime, ctime, size, content, mode, owner),
// replaced (inode, type), deleted, or a directory that gained or lost entries.
// Check itself reads with O_NOATIME.
type Canaries struct {
	Dir    string               // the canary tree, e.g. <root>/host
	linked map[string]bool      // hard-linked from an area: read through it, its ctime and link count may change
	state  map[string]canaryRec // relative path -> state when armed
}

// canaryFiles is the fake host the hostile trees point at: credential and
// system files a tool might read or write through a symlink.
var canaryFiles = map[string]string{
	"etc/passwd":                "root:x:0:0:canary:/root:/bin/sh\n",
	"etc/shadow":                "root:$6$canary$:19000:0:99999:7:::\n",
	"etc/hostname":              "canary-host\n",
	"etc/group":                 "root:x:0:\n",
	"root/.ssh/authorized_keys": "ssh-ed25519 AAAAcanary host-admin\n",
	"bin/bash":                  "#!/bin/sh\necho canary bash\n",
	"old/keep":                  "the host's own /old\n",
	"home/victim/notes":         "host data\n",
	"victim":                    "host file\n",
	"linked":                    "hard-linked from the private area\n",
}

// NewCanaries creates the canary tree in dir (which must not exist yet). Plant
// the hostile trees, then Arm.
func NewCanaries(dir string) (*Canaries, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	for rel, content := range canaryFiles {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if rel == "bin/bash" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return nil, err
		}
	}
	return &Canaries{Dir: dir, linked: map[string]bool{}}, nil
}

// Path is the absolute host path of a canary ("etc/passwd").
func (c *Canaries) Path(rel string) string { return filepath.Join(c.Dir, rel) }

// Link hard-links the canary rel as newPath (same file system). The file is
// then also the area's: Check still reports a write, a replacement or a
// deletion, but not a read or a change of its link count and ctime.
func (c *Canaries) Link(rel, newPath string) error {
	c.linked[rel] = true
	return os.Link(c.Path(rel), newPath)
}

// canaryRec is what Check compares.
type canaryRec struct {
	st      unix.Stat_t
	sum     [32]byte // regular files
	entries []string // directories
}

// Arm sets every canary's atime an hour before its mtime and records the state.
func (c *Canaries) Arm() error {
	var paths []string
	err := filepath.WalkDir(c.Dir, func(p string, _ os.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		ts := []unix.Timespec{{Sec: st.Mtim.Sec - 3600, Nsec: st.Mtim.Nsec}, {Nsec: unix.UTIME_OMIT}}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("arm canary %s: %w", p, err)
		}
	}
	c.state = map[string]canaryRec{}
	for _, p := range paths {
		rec, err := readCanary(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.Dir, p)
		c.state[rel] = rec
	}
	return nil
}

// Check compares every canary with its armed state; nil means nothing outside
// the private areas was read, written or deleted.
func (c *Canaries) Check() error {
	if c.state == nil {
		return errors.New("canaries were never armed")
	}
	var errs []error
	rels := make([]string, 0, len(c.state))
	for rel := range c.state {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, rel := range rels {
		if err := c.checkOne(rel, c.state[rel]); err != nil {
			errs = append(errs, fmt.Errorf("canary %s: %w", c.Path(rel), err))
		}
	}
	return errors.Join(errs...)
}

func (c *Canaries) checkOne(rel string, want canaryRec) error {
	got, err := readCanary(c.Path(rel))
	if errors.Is(err, unix.ENOENT) {
		return errors.New("deleted")
	} else if err != nil {
		return err
	}
	w, g := want.st, got.st
	switch {
	case w.Ino != g.Ino || w.Mode&unix.S_IFMT != g.Mode&unix.S_IFMT:
		return errors.New("replaced")
	case w.Mtim != g.Mtim || w.Size != g.Size || want.sum != got.sum:
		return errors.New("written")
	case w.Mode != g.Mode || w.Uid != g.Uid || w.Gid != g.Gid:
		return fmt.Errorf("mode or owner changed (%o %d:%d -> %o %d:%d)", w.Mode, w.Uid, w.Gid, g.Mode, g.Uid, g.Gid)
	case !slices.Equal(want.entries, got.entries):
		return fmt.Errorf("entries changed: %q -> %q", want.entries, got.entries)
	case c.linked[rel]:
		// Also a file of the area: reading it through the area's name is
		// legitimate, unlinking that name changes its link count and ctime.
	case w.Ctim != g.Ctim:
		return fmt.Errorf("changed (ctime %s -> %s)", tsString(w.Ctim), tsString(g.Ctim))
	case w.Atim != g.Atim:
		return fmt.Errorf("read (atime %s -> %s)", tsString(w.Atim), tsString(g.Atim))
	}
	return nil
}

// readCanary stats p and reads it with O_NOATIME, so checking leaves no trace.
func readCanary(p string) (canaryRec, error) {
	var rec canaryRec
	if err := unix.Lstat(p, &rec.st); err != nil {
		return rec, err
	}
	kind := rec.st.Mode & unix.S_IFMT
	if kind != unix.S_IFREG && kind != unix.S_IFDIR {
		return rec, nil
	}
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0)
	if err != nil {
		return rec, err
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	if kind == unix.S_IFDIR {
		rec.entries, err = f.Readdirnames(-1)
		slices.Sort(rec.entries)
		return rec, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return rec, err
	}
	copy(rec.sum[:], h.Sum(nil))
	return rec, nil
}

func tsString(ts unix.Timespec) string {
	return time.Unix(ts.Sec, ts.Nsec).UTC().Format(time.RFC3339Nano)
}
