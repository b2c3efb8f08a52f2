//go:build linux

package safefs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sentinel errors of CheckPrivateArea (and ErrCrossesMount of RemoveTree); callers branch on
// them to refuse with exit 2 before anything changes.
var (
	ErrSymlinkedArea = errors.New("private area is a symlink")
	ErrMountInside   = errors.New("mount point inside the private area")
	ErrNotDirectory  = errors.New("not a directory")
)

// mountinfoPath is read for the mount table of this process's mount namespace.
const mountinfoPath = "/proc/self/mountinfo"

// CheckPrivateArea (contract §6): path must be a real directory, not a symlink, with no mount
// point at or below it. Bind mounts keep st_dev, so the mount table is read instead.
func CheckPrivateArea(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("private area %s: %w", path, err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s: %w", path, ErrSymlinkedArea)
	case !fi.IsDir():
		return fmt.Errorf("private area %s: %w", path, ErrNotDirectory)
	}
	mount, err := mountAtOrBelow(path)
	if err != nil {
		return fmt.Errorf("private area %s: %w", path, err)
	}
	if mount != "" {
		return fmt.Errorf("%s: %w: %s", path, ErrMountInside, mount)
	}
	return nil
}

// mountAtOrBelow returns the first mount point at or below path ("" if none). The parents
// of path may be symlinks (trusted host layout); the mount table holds resolved paths.
func mountAtOrBelow(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", err
	}
	real := filepath.Join(parent, filepath.Base(abs))
	mounts, err := mountPoints(mountinfoPath)
	if err != nil {
		return "", err
	}
	for _, mp := range mounts {
		if mp == real || real == "/" || strings.HasPrefix(mp, real+"/") {
			return mp, nil
		}
	}
	return "", nil
}

// mountPoints lists the mount point field (the fifth) of every line of a mountinfo file.
func mountPoints(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			return nil, fmt.Errorf("%s: malformed line %q", file, sc.Text())
		}
		out = append(out, unescapeMountinfo(fields[4]))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// unescapeMountinfo decodes the kernel's octal escapes (\040 space, \011 tab, \012 newline,
// \134 backslash) in a mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
