package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Defaults of vz.conf keys the host layout needs (contract §1).
const (
	DefaultLockDir   = "/vz/lock"
	DefaultTemplate  = "/vz/template"
	DefaultVERoot    = "/vz/root/$VEID"
	DefaultVEPrivate = "/vz/private/$VEID"
	DefaultInit      = "/sbin/init"
)

// Host is the host's Virtuozzo layout under a --root.
type Host struct {
	Root        string  // --root, absolute, "/" by default
	Global      *Config // parsed <root>/etc/vz/vz.conf (empty Config if the file is missing)
	LockDir     string  // host path (root applied) of LOCKDIR (default /vz/lock)
	TemplateDir string  // host path of TEMPLATE (default /vz/template)
	LXC         *LXC    // set by UseLXC: the containers are LXC's, not /etc/vz/conf's

	// Log receives one-line notices such as a stale lock being taken over.
	// nil writes them to os.Stderr.
	Log func(msg string)
}

// OpenHost loads <root>/etc/vz/vz.conf; root "" means "/", a relative root
// is made absolute. The root must be an existing directory.
func OpenHost(root string) (*Host, error) {
	if root == "" {
		root = "/"
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	if st, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", root)
	}
	h := &Host{Root: root}
	vzconf := h.Path("/etc/vz/vz.conf")
	h.Global, err = LoadConfig(vzconf)
	if errors.Is(err, fs.ErrNotExist) {
		h.Global, err = &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	if h.LockDir, err = h.globalDir(vzconf, "LOCKDIR", DefaultLockDir); err != nil {
		return nil, err
	}
	if h.TemplateDir, err = h.globalDir(vzconf, "TEMPLATE", DefaultTemplate); err != nil {
		return nil, err
	}
	return h, nil
}

// Path maps an absolute host path to its place under the root:
// "/etc/vz/x" -> <root>/etc/vz/x. p is cleaned as an absolute path first, so
// ".." cannot climb above the root; with root "/" a clean p comes back as is.
func (h *Host) Path(p string) string {
	return filepath.Join(h.Root, filepath.Clean("/"+p))
}

// ConfigPath is <root>/etc/vz/conf/<ctid>.conf.
// For an LXC container it is the tool's settings file beside LXC's config.
func (h *Host) ConfigPath(ctid int) string {
	if p, ok := h.lxcFile(ctid, LXCSettingsFile); ok {
		return p
	}
	return h.Path("/etc/vz/conf/" + strconv.Itoa(ctid) + ".conf")
}

// ScriptPath is <root>/etc/vz/conf/<name>, e.g. "vps.reinstall" (contract §2).
func (h *Host) ScriptPath(name string) string {
	return h.Path("/etc/vz/conf/" + name)
}

// NamePath is <root>/etc/vz/names/<name>, the name's symlink.
func (h *Host) NamePath(name string) string {
	return h.Path("/etc/vz/names/" + name)
}

// JournalPath is <LockDir>/<ctid>.journal (contract §5).
// For an LXC container it is in the container's LXC directory.
func (h *Host) JournalPath(ctid int) string {
	if p, ok := h.lxcFile(ctid, lxcJournalFile); ok {
		return p
	}
	return filepath.Join(h.LockDir, strconv.Itoa(ctid)+".journal")
}

// LockPath is <LockDir>/<ctid>.lck.
// For an LXC container it is in the container's LXC directory.
func (h *Host) LockPath(ctid int) string {
	if p, ok := h.lxcFile(ctid, lxcLockFile); ok {
		return p
	}
	return filepath.Join(h.LockDir, strconv.Itoa(ctid)+".lck")
}

// globalDir reads an absolute directory key of vz.conf as a host path.
func (h *Host) globalDir(vzconf, key, def string) (string, error) {
	v, ok := h.Global.Get(key)
	if !ok {
		v = def
	}
	if err := checkPathValue(vzconf, key, v); err != nil {
		return "", err
	}
	return h.Path(v), nil
}

func (h *Host) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if h.Log != nil {
		h.Log(msg)
		return
	}
	fmt.Fprintln(os.Stderr, "reinstall: "+msg)
}
