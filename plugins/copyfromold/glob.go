package copyfromold

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// glob expands an absolute pattern in the old area into relative paths.
// Wildcards match within one component; a symlink on the way is not
// followed (it is reported); the old area's own "old" (an earlier
// reinstall's backup) never matches a wildcard.
func (c *copier) glob(pattern string) ([]string, error) {
	comps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	current := []string{""}
	for i, comp := range comps {
		last := i == len(comps)-1
		var next []string
		for _, dir := range current {
			names := []string{comp}
			if strings.ContainsAny(comp, "*?[\\") {
				all, err := c.listSrc(dir)
				if err != nil {
					return nil, err
				}
				names = names[:0]
				for _, n := range all {
					if ok, _ := path.Match(comp, n); ok && !(dir == "" && n == "old") {
						names = append(names, n)
					}
				}
			}
			for _, n := range names {
				rel := path.Join(dir, n)
				var st unix.Stat_t
				err := c.lstatSrc(rel, &st)
				if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("/%s in the old private area: %w", rel, err)
				}
				switch {
				case last:
					next = append(next, rel)
				case st.Mode&unix.S_IFMT == unix.S_IFDIR:
					next = append(next, rel)
				case st.Mode&unix.S_IFMT == unix.S_IFLNK:
					c.skipped = append(c.skipped, fmt.Sprintf("/%s in the old private area is a symlink: not followed", rel))
				}
			}
		}
		current = next
	}
	slices.Sort(current)
	return current, nil
}

// listSrc lists a directory of the old area (rel "" is its top).
func (c *copier) listSrc(rel string) ([]string, error) {
	fd, err := unix.Openat2(c.src, "./"+rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath})
	if err != nil {
		return nil, fmt.Errorf("/%s in the old private area: %w", rel, err)
	}
	defer unix.Close(fd)
	return readNames(fd)
}

// lstatSrc stats rel in the old area without following any symlink.
func (c *copier) lstatSrc(rel string, st *unix.Stat_t) error {
	dir, base := path.Split(rel)
	fd, err := unix.Openat2(c.src, "./"+dir, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: beneath})
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fstatat(fd, base, st, unix.AT_SYMLINK_NOFOLLOW)
}
