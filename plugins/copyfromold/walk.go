package copyfromold

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// maxOpenDirs bounds the directory levels whose fds one copy holds open
// (two per level: the old area's and the new one's). Deeper ancestors are
// closed, and reopened through ".." on the way back up, checked by device
// and inode: a tree 15,000 levels deep is copied with a few dozen fds.
const maxOpenDirs = 32

// showMax is the longest path a message shows whole; a longer one keeps
// its first and last components around an ellipsis.
const showMax = 160

// show is how messages name rel (relative to an area): "/" + rel, its
// middle left out when it is long ("/a/b/c/…/x/y/z").
func show(rel string) string {
	if len(rel) <= showMax {
		return "/" + rel
	}
	comps := strings.Split(rel, "/")
	head, tail := 0, len(comps)
	for n := 0; head < tail-1 && n+len(comps[head]) < showMax/2; head++ {
		n += len(comps[head]) + 1
	}
	for n := 0; tail > head+1 && n+len(comps[tail-1]) < showMax/2; tail-- {
		n += len(comps[tail-1]) + 1
	}
	if head == 0 && tail == len(comps) { // one huge component
		return "/" + rel[:showMax/2] + "…" + rel[len(rel)-showMax/2:]
	}
	return "/" + strings.Join(comps[:head], "/") + "/…/" + strings.Join(comps[tail:], "/")
}

// dirLevel is one directory being merged: its fds in both areas (-1 once
// closed), their identities, and the entries left to copy.
type dirLevel struct {
	name           string // in the parent level
	src, dst       int
	srcID, dstID   [2]uint64
	st             unix.Stat_t // the old directory's, given to the copy at the end
	names          []string
	next           int
	parentsPathLen int // bytes of the path down to this level's parent
}

func (l *dirLevel) close() {
	if l.src >= 0 {
		unix.Close(l.src)
	}
	if l.dst >= 0 {
		unix.Close(l.dst)
	}
	l.src, l.dst = -1, -1
}

// copyDir merges the directory name of sfd into the one at the same place
// in dfd (created if missing, replacing a non-directory), then gives each
// copied directory the old one's owner, mode, xattrs and times once its
// entries are in. The walk is a loop over a stack, not a recursion, and
// holds at most maxOpenDirs levels of fds.
func (c *copier) copyDir(sfd, dfd int, name, rel string, st *unix.Stat_t) error {
	top, err := c.openLevel(sfd, dfd, name, rel, st)
	if err != nil {
		return err
	}
	top.parentsPathLen = len(rel) - len(name)
	stack := []*dirLevel{top}
	defer func() {
		for _, l := range stack {
			l.close()
		}
	}()
	lowestOpen := 0
	// relOf is an entry's path for messages and hard links: whole while it
	// fits PATH_MAX, else the top's path, "…" and the last levels (never
	// recorded as a link then).
	relOf := func(n string) string {
		l := stack[len(stack)-1]
		if l.parentsPathLen+len(l.name)+len(n)+2 < unix.PathMax {
			parts := []string{rel}
			for _, x := range stack[1:] {
				parts = append(parts, x.name)
			}
			return strings.Join(append(parts, n), "/")
		}
		parts := []string{rel, "…"}
		for _, x := range stack[max(1, len(stack)-3):] {
			parts = append(parts, x.name)
		}
		return strings.TrimPrefix(show(strings.Join(append(parts, n), "/")), "/")
	}
	for len(stack) > 0 {
		l := stack[len(stack)-1]
		if l.next < len(l.names) {
			n := l.names[l.next]
			l.next++
			var cst unix.Stat_t
			if err := unix.Fstatat(l.src, n, &cst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("%s: %w", show(relOf(n)), err)
			}
			if cst.Mode&unix.S_IFMT != unix.S_IFDIR || cst.Dev != c.srcDev {
				if err := c.copyEntry(l.src, l.dst, n, relOf(n)); err != nil {
					return err
				}
				continue
			}
			c.entries++
			child, err := c.openLevel(l.src, l.dst, n, relOf(n), &cst)
			if err != nil {
				return err
			}
			child.parentsPathLen = l.parentsPathLen + len(l.name) + 1
			stack = append(stack, child)
			for len(stack)-lowestOpen > maxOpenDirs {
				stack[lowestOpen].close()
				lowestOpen++
			}
			continue
		}
		// Every entry is in: the directory gets its metadata, then the
		// walk goes back up, reopening the parent if it was closed.
		here := relOf("")
		here = strings.TrimSuffix(here, "/")
		if err := setOwnerMode(l.dst, &l.st); err != nil {
			return fmt.Errorf("%s: %w", show(here), err)
		}
		if err := copyXattrs(l.src, l.dst); err != nil {
			return fmt.Errorf("%s: %w", show(here), err)
		}
		if err := setTimes(l.dst, &l.st); err != nil {
			return fmt.Errorf("%s: %w", show(here), err)
		}
		if len(stack) > 1 {
			if parent := stack[len(stack)-2]; parent.src < 0 {
				if err := reopenParent(l, parent); err != nil {
					return fmt.Errorf("%s: %w", show(here), err)
				}
				lowestOpen = len(stack) - 2
			}
		}
		l.close()
		stack = stack[:len(stack)-1]
	}
	return nil
}

// openLevel opens the directory name in both areas (creating or replacing
// it in the new one) and lists the old one's entries.
func (c *copier) openLevel(sfd, dfd int, name, rel string, st *unix.Stat_t) (*dirLevel, error) {
	l := &dirLevel{name: name, src: -1, dst: -1, st: *st}
	var err error
	if l.src, err = openDir(sfd, name); err != nil {
		return nil, fmt.Errorf("%s in the old private area: %w", show(rel), err)
	}
	l.dst, err = openDir(dfd, name)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		if err := unix.Unlinkat(dfd, name, 0); err != nil {
			l.close()
			return nil, fmt.Errorf("replace %s in the new private area: %w", show(rel), err)
		}
	}
	if err != nil {
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			l.close()
			return nil, fmt.Errorf("create %s in the new private area: %w", show(rel), err)
		}
		if l.dst, err = openDir(dfd, name); err != nil {
			l.close()
			return nil, fmt.Errorf("%s in the new private area: %w", show(rel), err)
		}
	}
	if l.srcID, err = fdIdentity(l.src); err == nil {
		l.dstID, err = fdIdentity(l.dst)
	}
	if err == nil {
		l.names, err = readNames(l.src)
	}
	if err != nil {
		l.close()
		return nil, fmt.Errorf("%s: %w", show(rel), err)
	}
	return l, nil
}

// reopenParent opens ".." of child in both areas and checks that each is
// still the directory recorded when it was first opened: a directory moved
// meanwhile fails the copy rather than sending it elsewhere.
func reopenParent(child, parent *dirLevel) error {
	var err error
	if parent.src, err = openDir(child.src, ".."); err == nil {
		parent.dst, err = openDir(child.dst, "..")
	}
	var srcID, dstID [2]uint64
	if err == nil {
		if srcID, err = fdIdentity(parent.src); err == nil {
			dstID, err = fdIdentity(parent.dst)
		}
	}
	if err == nil && (srcID != parent.srcID || dstID != parent.dstID) {
		err = errors.New("a parent directory was moved while it was being copied")
	}
	if err != nil {
		parent.close()
		return fmt.Errorf("reopen the parent directory: %w", err)
	}
	return nil
}

func fdIdentity(fd int) ([2]uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}
