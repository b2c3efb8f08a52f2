//go:build linux

package runtime

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// Runtime names, as the pipeline's runtime setting and --runtime spell them.
const (
	NameAuto   = "auto"   // vzctl if on PATH, else prlctl if on PATH, else native
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
	// LookPath finds a tool; nil means exec.LookPath (the caller's PATH).
	LookPath func(file string) (string, error)
}

// Resolve turns a setting into a concrete runtime name: "auto" becomes
// vzctl if it is on PATH, else prlctl if it is, else native.
func (s Selector) Resolve(setting string) (string, error) {
	switch setting {
	case NameNative, NameVzctl, NamePrlctl:
		return setting, nil
	case NameAuto, "":
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
