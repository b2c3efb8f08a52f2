//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// DirEntry is one entry of ListDirBeneath, described as it is (a symlink
// is not followed).
type DirEntry struct {
	Name string
	// Type is "file", "dir", "symlink" or "other".
	Type string
	// Mode is the permission part of st_mode as an os.FileMode.
	Mode     os.FileMode
	Size     int64
	UID, GID int
}

// MaxListEntries bounds ListDirBeneath: a container may plant a directory
// with millions of entries where the host expects a few.
const MaxListEntries = 100000

// ListDirBeneath lists the directory rel inside root, sorted by name, never
// following a symlink on the way to it nor for its entries.
func ListDirBeneath(root, rel string) ([]DirEntry, error) {
	dir, err := OpenBeneath(root, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer dir.Close()
	names, err := dir.Readdirnames(MaxListEntries + 1)
	if err != nil && len(names) == 0 && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("list %s: %w", dir.Name(), err)
	}
	if len(names) > MaxListEntries {
		return nil, fmt.Errorf("list %s: more than %d entries", dir.Name(), MaxListEntries)
	}
	entries := make([]DirEntry, 0, len(names))
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue // removed meanwhile
		}
		entries = append(entries, DirEntry{Name: name, Type: entryType(st.Mode), Mode: fileMode(st.Mode),
			Size: st.Size, UID: int(st.Uid), GID: int(st.Gid)})
	}
	slices.SortFunc(entries, func(a, b DirEntry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

func entryType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	}
	return "other"
}
