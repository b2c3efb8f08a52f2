package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrConfigSymlink marks a container config that is a symlink (Virtuozzo 7
// links <CTID>.conf to <VE_PRIVATE>/ve.conf): it is read through the link
// but never rewritten, since an atomic rewrite would replace the link with
// a plain file.
var ErrConfigSymlink = errors.New("the container config is a symlink")

// CheckConfigWritable tells whether SetConfigValue may rewrite <CTID>.conf:
// it refuses a symlink, naming the file and its target.
// An LXC container's settings file may not exist yet.
func (h *Host) CheckConfigWritable(ctid int) error {
	_, err := h.configFileMode(ctid)
	if _, lxc := h.LXCName(ctid); lxc && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// SetConfigValue sets key to value in <CTID>.conf (Config.Set) and rewrites
// the file atomically with its mode kept, so comments, unknown keys and raw
// values like $VEID stay as they were. A key that already holds value leaves
// the file untouched, so calling it again is harmless (also through a
// symlink). Otherwise a config that is a symlink is refused
// (ErrConfigSymlink), never replaced.
func (h *Host) SetConfigValue(ctid int, key, value string) error {
	path := h.ConfigPath(ctid)
	if err := CheckValue(value); err != nil {
		return fmt.Errorf("%s: %s: %w", path, key, err)
	}
	cfg, err := LoadConfig(path)
	_, lxc := h.LXCName(ctid)
	if lxc && errors.Is(err, fs.ErrNotExist) {
		cfg, err = &Config{}, nil // the settings file is made by the first -t
	}
	if err != nil {
		return err
	}
	if old, ok := cfg.Get(key); ok && old == value {
		return nil // already so, even through a link someone set by hand
	}
	mode, err := h.configFileMode(ctid)
	if lxc && errors.Is(err, fs.ErrNotExist) {
		mode, err = 0o644, nil
	}
	if err != nil {
		return err
	}
	cfg.Set(key, value)
	return WriteFileAtomic(path, cfg.Bytes(), mode)
}

// configFileMode returns the permissions of <CTID>.conf, refusing a symlink
// or anything but a regular file.
func (h *Host) configFileMode(ctid int) (os.FileMode, error) {
	path := h.ConfigPath(ctid)
	st, err := os.Lstat(path)
	if err != nil {
		return 0, err // *PathError names the file
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return 0, fmt.Errorf("%s: %w (to %s), which reinstall does not rewrite", path, ErrConfigSymlink, target)
	case !st.Mode().IsRegular():
		return 0, fmt.Errorf("%s: not a regular file (%s)", path, st.Mode().Type())
	}
	return st.Mode().Perm(), nil
}
