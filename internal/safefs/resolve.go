//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotFound is returned by ResolveInRoot for a path that names nothing.
var ErrNotFound = errors.New("no such file in the container")

// ResolveInRoot resolves rel as the container would (absolute symlinks
// clamped to root, never out of it or across a mount) and returns the
// path it names, as seen from inside ("/sbin/init" → "/usr/lib/systemd/systemd").
func ResolveInRoot(root, rel string) (string, error) {
	rootFd, err := openDirNoFollow(root, unix.O_PATH)
	if err != nil {
		return "", err
	}
	defer unix.Close(rootFd)
	fd, err := openat2(rootFd, relPath(rel), unix.O_PATH, 0, resolveInRoot)
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return "", fmt.Errorf("resolve %s in %s: %w", rel, root, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("resolve %s in %s: %w", rel, root, err)
	}
	defer unix.Close(fd)
	rootPath, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(rootFd))
	if err != nil {
		return "", fmt.Errorf("resolve %s in %s: %w", rel, root, err)
	}
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", fmt.Errorf("resolve %s in %s: %w", rel, root, err)
	}
	inside, ok := strings.CutPrefix(target, strings.TrimSuffix(rootPath, "/"))
	if !ok || (inside != "" && !strings.HasPrefix(inside, "/")) {
		return "", fmt.Errorf("resolve %s in %s: %s is not inside it", rel, root, target)
	}
	return filepath.Clean("/" + inside), nil
}
