package vz

import (
	"fmt"
	"os"
)

// SetConfigValue sets key to value in <CTID>.conf (Config.Set) and rewrites
// the file atomically with its mode kept, so comments, unknown keys and raw
// values like $VEID stay as they were. A key that already holds value leaves
// the file untouched, so calling it again is harmless.
func (h *Host) SetConfigValue(ctid int, key, value string) error {
	path := h.ConfigPath(ctid)
	if err := CheckValue(value); err != nil {
		return fmt.Errorf("%s: %s: %w", path, key, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err // *PathError names the file
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	if old, ok := cfg.Get(key); ok && old == value {
		return nil
	}
	cfg.Set(key, value)
	return WriteFileAtomic(path, cfg.Bytes(), st.Mode().Perm())
}
