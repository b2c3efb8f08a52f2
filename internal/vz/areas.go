package vz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrAreaOverlap: a container's areas overlap another container's, each
// other, or the host's own vz directories (contract §6).
var ErrAreaOverlap = errors.New("areas overlap")

// checkAreaValue checks a VE_PRIVATE/VE_ROOT value after $VEID substitution
// (contract §1, §6): an absolute path, not "/", without "..", control
// characters (a newline would split every line-based log and journal) or a
// "$" or "`" that vzctl's shell scripts would expand.
func checkAreaValue(conf, key, value string) error {
	if err := checkPathValue(conf, key, value); err != nil {
		return err
	}
	for _, comp := range strings.Split(value, "/") {
		if comp == ".." {
			return fmt.Errorf("%s: %s=%q: must not contain \"..\"", conf, key, value)
		}
	}
	if filepath.Clean(value) == "/" {
		return fmt.Errorf("%s: %s=%q: must not be the root directory", conf, key, value)
	}
	return nil
}

// checkPathValue checks an absolute directory value of vz.conf or a container config.
func checkPathValue(conf, key, value string) error {
	if !filepath.IsAbs(value) {
		return fmt.Errorf("%s: %s=%q: must be an absolute path", conf, key, value)
	}
	if err := checkPlainValue(conf, key, value); err != nil {
		return err
	}
	if i := strings.IndexAny(value, "$`"); i >= 0 {
		return fmt.Errorf("%s: %s=%q: %q is not allowed (only $VEID and ${VEID} are substituted)", conf, key, value, value[i])
	}
	return nil
}

// checkPlainValue refuses control characters (newline, carriage return, NUL,
// escape sequences…) in a value the tool uses in paths, messages or journals.
func checkPlainValue(conf, key, value string) error {
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s: %s=%q: contains the control character %q", conf, key, value, c)
		}
	}
	return nil
}

// LoadContainerChecked is LoadContainer plus CheckIsolation: what a command
// that moves, swaps or deletes the private area must load.
func (h *Host) LoadContainerChecked(ctid int) (*Container, error) {
	ct, err := h.LoadContainer(ctid)
	if err != nil {
		return nil, err
	}
	if err := h.CheckIsolation(ct); err != nil {
		return nil, err
	}
	return ct, nil
}

// CheckIsolation (contract §6): a reinstall swaps, moves and deletes
// VE_PRIVATE as a whole, so it must neither be, hold nor sit inside another
// container's VE_PRIVATE or VE_ROOT, nor the host's own vz directories
// (configuration, LOCKDIR, TEMPLATE, runtime state); and its VE_ROOT, created
// with mkdir -p on the host, must not lie in another container's private
// area, where that container's symlinks would steer it. The areas of every
// container config in /etc/vz/conf are read; one whose areas cannot be known
// is an error, since the check cannot be made without it.
func (h *Host) CheckIsolation(ct *Container) error {
	if h.LXC != nil {
		return h.checkLXCIsolation(ct)
	}
	hostDirs := map[string]string{
		"the vz configuration directory": h.Path("/etc/vz"),
		"LOCKDIR":                        h.LockDir,
		"TEMPLATE":                       h.TemplateDir,
		"the runtime state directory":    h.Path("/run/reinstall"),
	}
	for _, what := range sortedKeys(hostDirs) {
		if overlaps(ct.Private, hostDirs[what]) {
			return fmt.Errorf("%w: VE_PRIVATE %s of container %d and %s %s", ErrAreaOverlap, ct.Private, ct.ID, what, hostDirs[what])
		}
	}
	if err := h.checkSystemDirs(ct); err != nil {
		return err
	}
	others, err := h.otherContainers(ct.ID)
	if err != nil {
		return err
	}
	for _, o := range others {
		switch {
		case overlaps(ct.Private, o.Private):
			return fmt.Errorf("%w: VE_PRIVATE %s of container %d and VE_PRIVATE %s of container %d (%s)", ErrAreaOverlap, ct.Private, ct.ID, o.Private, o.ID, o.ConfigPath)
		case overlaps(ct.Private, o.Root):
			return fmt.Errorf("%w: VE_PRIVATE %s of container %d and VE_ROOT %s of container %d (%s)", ErrAreaOverlap, ct.Private, ct.ID, o.Root, o.ID, o.ConfigPath)
		case overlaps(ct.Root, o.Private):
			return fmt.Errorf("%w: VE_ROOT %s of container %d and VE_PRIVATE %s of container %d (%s)", ErrAreaOverlap, ct.Root, ct.ID, o.Private, o.ID, o.ConfigPath)
		}
	}
	return nil
}

// otherContainers loads the areas of every container config but ctid's
// (loadAreas: a bad HOSTNAME there is no reason to refuse this one).
func (h *Host) otherContainers(ctid int) ([]*Container, error) {
	entries, err := os.ReadDir(h.Path("/etc/vz/conf"))
	if err != nil {
		return nil, fmt.Errorf("list container configs: %w", err)
	}
	var out []*Container
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".conf")
		other, err := ParseCTID(id)
		if !ok || err != nil || other == ctid {
			continue
		}
		o, err := h.loadAreas(other)
		if err != nil {
			return nil, fmt.Errorf("cannot check the areas of container %d against container %d: %w", ctid, other, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// overlaps reports whether a and b are the same directory or one lies inside
// the other, comparing both the paths as written and with their (trusted)
// parent directories' symlinks resolved.
func overlaps(a, b string) bool {
	if nested(a, b) || nested(b, a) {
		return true
	}
	ra, rb := resolveParent(a), resolveParent(b)
	return nested(ra, rb) || nested(rb, ra)
}

// nested reports whether inner is outer or lies below it.
func nested(inner, outer string) bool {
	inner, outer = filepath.Clean(inner), filepath.Clean(outer)
	return inner == outer || outer == "/" || strings.HasPrefix(inner, outer+"/")
}

// resolveParent resolves the symlinks of p's parent directory (host layout,
// trusted); the last component is kept as is. Unresolvable: p unchanged.
func resolveParent(p string) string {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return p
	}
	return filepath.Join(dir, filepath.Base(p))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
