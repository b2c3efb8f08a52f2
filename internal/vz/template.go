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
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("OS template %q: not a valid template name", name)
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
