package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrTemplateNotFound: no cache file for the OS template.
var ErrTemplateNotFound = errors.New("OS template not found")

// TemplateSuffixes are the cache file suffixes, in the order they are tried.
var TemplateSuffixes = []string{".tar", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2"}

// FindTemplate returns the first existing <TemplateDir>/cache/<name><suffix>
// for the suffixes in TemplateSuffixes (contract §1). name is one path
// element: not empty, ".", "..", nor holding '/' or NUL. Nothing found is an
// error wrapping ErrTemplateNotFound that lists the paths tried.
func (h *Host) FindTemplate(name string) (string, error) {
	if err := CheckTemplateName(name); err != nil {
		return "", err
	}
	cache := filepath.Join(h.TemplateDir, "cache")
	tried := make([]string, 0, len(TemplateSuffixes))
	for _, suffix := range TemplateSuffixes {
		p := filepath.Join(cache, name+suffix)
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			tried = append(tried, p)
			continue
		case err != nil:
			return "", fmt.Errorf("OS template %q: %w", name, err)
		case !st.Mode().IsRegular():
			return "", fmt.Errorf("OS template %q: %s is not a regular file (%s)", name, p, st.Mode().Type())
		}
		return p, nil
	}
	return "", fmt.Errorf("%w: %q (tried %s)", ErrTemplateNotFound, name, strings.Join(tried, ", "))
}

// CheckTemplateName reports whether name can be an OS template name: one
// path element (not empty, ".", "..", nor holding '/'), no control
// character, and a value a config rewrite can hold (CheckValue).
func CheckTemplateName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("OS template %q: not a valid template name", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("OS template %q: not a valid template name (control character %q)", name, c)
		}
	}
	if err := CheckValue(name); err != nil {
		return fmt.Errorf("OS template %q: not a valid template name: %w", name, err)
	}
	return nil
}
