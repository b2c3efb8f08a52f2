//go:build linux

package runtime

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Runtime names, as the pipeline's runtime setting and --runtime spell them.
const (
	NameAuto   = "auto"   // on the real host: vzctl if on PATH, else prlctl if on PATH, else native
	NameNative = "native" // Linux namespaces (Native)
	NameVzctl  = "vzctl"  // through vzctl (Tool)
	NamePrlctl = "prlctl" // through prlctl (Tool)
)

// Names are the accepted runtime settings.
var Names = []string{NameAuto, NameNative, NameVzctl, NamePrlctl}

// Selector builds the runtime a setting names.
type Selector struct {
	// StateDir and SelfExe configure the native runtime (NewNative).
	StateDir string
	SelfExe  string
	// Root is the host root every host path resolves under; "" means "/".
	// vzctl and prlctl know nothing of it: they act on the real host's
	// containers. So under another root "auto" is native, and a tool named
	// explicitly draws a warning.
	Root string
	// LookPath finds a tool; nil means exec.LookPath (the caller's PATH).
	LookPath func(file string) (string, error)
	// Debug and Warn take the selection's one-line notices; nil drops them.
	Debug, Warn func(msg string)
}

// Resolve turns a setting into a concrete runtime name. On the real host
// (root "/") "auto" becomes vzctl if it is on PATH, else prlctl if it is,
// else native; under any other root it is native.
func (s Selector) Resolve(setting string) (string, error) {
	switch setting {
	case NameNative, NameVzctl, NamePrlctl:
		return setting, nil
	case NameAuto, "":
		if !s.onRealHost() {
			s.notice(s.Debug, fmt.Sprintf("runtime auto: native, as the host root %s is not \"/\" (vzctl and prlctl act on the real host's containers)", s.Root))
			return NameNative, nil
		}
		for _, tool := range []string{NameVzctl, NamePrlctl} {
			if _, err := s.lookPath(tool); err == nil {
				return tool, nil
			}
		}
		return NameNative, nil
	}
	return "", fmt.Errorf("unknown runtime %q: use auto, native, vzctl or prlctl", setting)
}

// New resolves a setting and builds its runtime; it returns the concrete
// name too (what a journal records, so that recovery uses the same one).
func (s Selector) New(setting string) (Runtime, string, error) {
	name, err := s.Resolve(setting)
	if err != nil {
		return nil, "", err
	}
	if name == NameNative {
		return NewNative(s.StateDir, s.SelfExe), name, nil
	}
	path, err := s.lookPath(name)
	if err != nil {
		return nil, "", fmt.Errorf("runtime %s: %s is not on PATH: %w", name, name, err)
	}
	if !s.onRealHost() {
		s.notice(s.Warn, fmt.Sprintf("runtime %s acts on the real host's containers, not on those under the host root %s", name, s.Root))
	}
	if name == NameVzctl {
		// vzctl has no list command; vzlist ships with it.
		vzlist := filepath.Join(filepath.Dir(path), "vzlist")
		if p, err := s.lookPath("vzlist"); err == nil {
			vzlist = p
		}
		return NewVzctl(path, vzlist), name, nil
	}
	return NewPrlctl(path), name, nil
}

// onRealHost tells whether the host root is "/".
func (s Selector) onRealHost() bool {
	return s.Root == "" || filepath.Clean(s.Root) == "/"
}

func (s Selector) notice(to func(string), msg string) {
	if to != nil {
		to(msg)
	}
}

func (s Selector) lookPath(file string) (string, error) {
	look := s.LookPath
	if look == nil {
		look = exec.LookPath
	}
	p, err := look(file)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}
