package hooks

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/termsafe"
)

// Dir is where hooks live: on the host (under --root) and in a container.
const Dir = "/etc/vz/reinstall.d"

// Where a hook comes from.
const (
	OriginHost      = "host"
	OriginContainer = "container"
)

// Hook is one hook script to run or list.
type Hook struct {
	Name   string // "a.sh"
	Origin string // OriginHost or OriginContainer
}

// Host lists the host's hooks: the *.sh entries of Dir under root that
// are regular files with the owner's execute bit (a symlink counts by what
// it points at: the host's directory is the host administrator's), sorted
// by byte order. A missing directory has none.
func Host(root string) ([]string, error) {
	dir := hostPath(root, Dir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the host's hooks: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sh") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o100 != 0 {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Container lists a container's own hooks in the private area at
// area, with the rules of Host, except that no symlink is followed:
// not on the way to the directory (that is an error) and not as a hook
// (it is not listed). A missing directory has none.
func Container(area string) ([]string, error) {
	dir, err := safefs.OpenBeneath(area, Dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the container's hooks: %w", err)
	}
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("list the container's hooks in %s: %w", dir.Name(), err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sh") {
			continue
		}
		var st unix.Stat_t
		err := unix.Fstatat(int(dir.Fd()), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&unix.S_IXUSR != 0 {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// SplitNames splits a --scripts value on commas, spaces and tabs, as
// vzctl does; empty names and repeats are dropped.
func SplitNames(list string) []string {
	var names []string
	for _, n := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// NotFoundError is a --scripts name that is no hook.
type NotFoundError struct {
	Name             string
	HostDir, CTDir   string
	ContainerListErr error // why the container's hooks could not be listed, if so
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("--scripts names %s, which is not an executable hook in %s (host) nor in %s (the container's own)",
		ShownName(e.Name), e.HostDir, e.CTDir)
	if e.ContainerListErr != nil {
		msg += fmt.Sprintf(" (%v)", e.ContainerListErr)
	}
	return msg + "; see --listscripts"
}

// Select returns the hooks to run, in order. Without names: every host
// hook. With names: only those, each of which must be a hook; the named
// container hooks run first (as in vzctl), then the named host hooks that
// no named container hook of the same name shadows.
func Select(host, container, names []string) ([]Hook, error) {
	if len(names) == 0 {
		hooks := make([]Hook, len(host))
		for i, n := range host {
			hooks[i] = Hook{Name: n, Origin: OriginHost}
		}
		return hooks, nil
	}
	for _, n := range names {
		if !slices.Contains(host, n) && !slices.Contains(container, n) {
			return nil, &NotFoundError{Name: n}
		}
	}
	var hooks []Hook
	for _, n := range container {
		if slices.Contains(names, n) {
			hooks = append(hooks, Hook{Name: n, Origin: OriginContainer})
		}
	}
	for _, n := range host {
		if slices.Contains(names, n) && !slices.Contains(container, n) {
			hooks = append(hooks, Hook{Name: n, Origin: OriginHost})
		}
	}
	return hooks, nil
}

// MaxHookSize bounds a hook script: its content goes to the shell on the
// stdin of one Exec call, a single plugin message.
const MaxHookSize = 1 << 20

// Bounds of what --listscripts --desc prints of a <name>.desc.
const (
	MaxDescSize  = 64 << 10
	MaxDescLines = 100
)

// TooLargeError is a hook larger than MaxHookSize.
type TooLargeError struct {
	Hook Hook
	Size int64 // at least; MaxHookSize+1 when the file grew while read
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s hook %s is %d bytes, more than the %d (1 MiB) a hook may have; have it run a larger script kept in the container instead",
		e.Hook.Origin, ShownName(e.Hook.Name), e.Size, MaxHookSize)
}

// Read returns a hook's content: the host's file, or the container's read
// beneath its area without following any symlink. A hook larger than
// MaxHookSize is a *TooLargeError, found before its content is read.
func Read(h Hook, root, area string) ([]byte, error) {
	data, size, err := readHead(h, root, area, MaxHookSize)
	if err != nil {
		return nil, err
	}
	if size > MaxHookSize {
		return nil, &TooLargeError{Hook: h, Size: size}
	}
	return data, nil
}

// readHead returns at most limit bytes from the start of a hook's file,
// and the file's size (more than limit when that was cut).
func readHead(h Hook, root, area string, limit int64) (data []byte, size int64, err error) {
	var f *os.File
	if h.Origin == OriginContainer {
		f, err = openContainerFile(area, filepath.Join(Dir, h.Name))
	} else {
		// O_NONBLOCK: a FIFO is refused below, never waited on.
		f, err = os.OpenFile(filepath.Join(hostPath(root, Dir), h.Name), os.O_RDONLY|unix.O_NONBLOCK, 0)
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: not a regular file", f.Name())
	}
	if fi.Size() > limit {
		data, err = io.ReadAll(io.LimitReader(f, limit))
		return data, fi.Size(), err
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(data)) > limit {
		return data[:limit], int64(len(data)), nil
	}
	return data, int64(len(data)), nil
}

// openContainerFile opens the regular file rel beneath a container's area
// for reading, never through a symlink and never a fifo or device node.
func openContainerFile(area, rel string) (*os.File, error) {
	p, err := safefs.OpenBeneath(area, rel, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(p.Fd()), &st); err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Name(), err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFLNK:
		return nil, fmt.Errorf("read %s: %w: is a symlink", p.Name(), safefs.ErrUnsafePath)
	default:
		return nil, fmt.Errorf("read %s: not a regular file", p.Name())
	}
	// Reopening the O_PATH fd reads exactly the inode checked above.
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", p.Fd()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: reopen: %w", p.Name(), err)
	}
	return os.NewFile(uintptr(fd), p.Name()), nil
}

// Description returns the head of a hook's <name>.desc (".sh" replaced by
// ".desc") next to it, at most MaxDescSize bytes; truncated says the file
// is longer, ok is false when there is none.
func Description(h Hook, root, area string) (data []byte, truncated, ok bool) {
	desc := Hook{Name: strings.TrimSuffix(h.Name, ".sh") + ".desc", Origin: h.Origin}
	data, size, err := readHead(desc, root, area, MaxDescSize)
	return data, size > MaxDescSize, err == nil
}

// DescriptionLines formats a description as vzctl's --listscripts --desc
// does: each line prefixed "name:", and "name:" alone when there is none.
// Past MaxDescLines lines, or when the description was truncated, a last
// "name:… (truncated)" line says so.
func DescriptionLines(name string, desc []byte, truncated, ok bool) []string {
	prefix := ShownName(name) + ":"
	text := strings.TrimSuffix(string(desc), "\n")
	if !ok || text == "" && !truncated {
		return []string{prefix}
	}
	var lines []string
	for i, l := range strings.Split(text, "\n") {
		if i == MaxDescLines {
			truncated = true
			break
		}
		lines = append(lines, prefix+termsafe.Printable(l))
	}
	if truncated {
		lines = append(lines, prefix+"… (truncated)")
	}
	return lines
}

func hostPath(root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	return filepath.Join(root, p)
}
