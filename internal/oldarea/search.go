package oldarea

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// Bounds of the search for the old area inside the new one: a container may
// have moved its /old anywhere, but a hostile tree must not stall the
// stage or the rollback that searches.
const (
	searchDepth   = 4     // levels below the new area's top
	searchEntries = 10000 // directory entries looked at in all
)

// ErrNotFound is a search that ended without finding the old area.
var ErrNotFound = errors.New("not found")

// Search looks for the directory with inode ino on dev inside the new area
// at root, breadth first, never through a symlink and never into another
// file system, and returns its path below root as components.
func Search(root string, ino, dev uint64) ([]string, error) {
	top, err := OpenDir(root)
	if err != nil {
		return nil, err
	}
	defer top.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(top.Fd()), &st); err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	rootDev := st.Dev
	queue := [][]string{nil}
	budget := searchEntries
	for len(queue) > 0 && budget > 0 {
		rel := queue[0]
		queue = queue[1:]
		dir, err := OpenBeneath(top, rel)
		if err != nil {
			continue // changed meanwhile: not a place the old area can be
		}
		// An unreadable directory yields what it could: nothing below the
		// rest can be reached anyway.
		names, _ := dir.Readdirnames(budget)
		budget -= len(names)
		for _, name := range names {
			if unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
				st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Dev != rootDev {
				continue
			}
			child := append(slices.Clone(rel), name)
			if st.Ino == ino && st.Dev == dev {
				dir.Close()
				return child, nil
			}
			if len(child) < searchDepth {
				queue = append(queue, child)
			}
		}
		dir.Close()
	}
	if budget <= 0 {
		return nil, fmt.Errorf("%w within the first %d entries of %s (searched %d levels deep, no symlink followed)", ErrNotFound, searchEntries, root, searchDepth)
	}
	return nil, fmt.Errorf("%w within %d levels of %s (no symlink followed)", ErrNotFound, searchDepth, root)
}

// OpenBeneath opens the directory at the components rel below dir, one
// component at a time, refusing symlinks.
func OpenBeneath(dir *os.File, rel []string) (*os.File, error) {
	// "." is a new open file description: reading it moves no offset of dir's.
	fd, err := unix.Openat(int(dir.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for _, name := range rel {
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		fd = next
	}
	return os.NewFile(uintptr(fd), dir.Name()), nil
}

// OpenDir opens a directory, not through a symlink.
func OpenDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}
