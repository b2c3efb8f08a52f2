//go:build linux

package vz

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ErrNotRegular matches every *NotRegularError (errors.Is).
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError: a host state file (lock, journal, config) is a FIFO, a
// device, a directory or a symlink. Such a file is refused, never waited on.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	what := "not a regular file"
	switch {
	case e.Mode&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case e.Mode&fs.ModeSymlink != 0:
		what = "a symbolic link"
	case e.Mode&fs.ModeDevice != 0:
		what = "a device node"
	case e.Mode&fs.ModeSocket != 0:
		what = "a socket"
	case e.Mode.IsDir():
		what = "a directory"
	}
	return fmt.Sprintf("%s is %s, not a regular file: remove it", e.Path, what)
}

func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// OpenStateFile opens a host state file (a lock, a journal, a config) without
// following a symlink at its last component and without blocking on a FIFO
// (O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC), checks through the open descriptor that
// it is a regular file, and clears O_NONBLOCK again. Anything else is a
// *NotRegularError, a symlink included.
func OpenStateFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if errors.Is(err, unix.ELOOP) {
		return nil, &NotRegularError{Path: path, Mode: fs.ModeSymlink}
	}
	if errors.Is(err, unix.ENXIO) || errors.Is(err, unix.EISDIR) { // a FIFO opened for writing with no reader; a directory
		mode := fs.ModeNamedPipe
		if errors.Is(err, unix.EISDIR) {
			mode = fs.ModeDir
		}
		return nil, &NotRegularError{Path: path, Mode: mode}
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(f.Fd(), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ReadStateFile reads a whole host state file (a journal, a record) opened
// by OpenStateFile: never through a symlink, never from a FIFO or device.
func ReadStateFile(path string) ([]byte, error) {
	f, err := OpenStateFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, path)
}

// ReadConfigFile reads a whole host configuration file (vz.conf,
// <CTID>.conf, the site pipeline). Unlike a state file it may be a symlink,
// which is followed (Virtuozzo 7 links <CTID>.conf to <VE_PRIVATE>/ve.conf),
// but what it names must be a regular file: a FIFO is opened O_NONBLOCK and
// refused, never waited on. A missing file wraps fs.ErrNotExist.
func ReadConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return readAll(f, path)
}

func readAll(f *os.File, path string) ([]byte, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}
