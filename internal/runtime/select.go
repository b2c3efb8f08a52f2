//go:build linux

package runtime

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
)

// Runtime names, as the pipeline's runtime setting and --runtime spell them.
const (
	NameAuto   = "auto"   // on the real host: vzctl if on PATH, else prlctl if on PATH, else native
	NameNative = "native" // Linux namespaces (Native)
	NameVzctl  = "vzctl"  // through vzctl (Tool)
	NamePrlctl = "prlctl" // through prlctl (Tool)
	NameLXC    = "lxc"    // through Debian's LXC tools (LXC); never chosen by auto
)

// PipelineNames are the settings a pipeline's runtime may name; lxc is
// not one, since it changes what a container argument names (an LXC
// name), which the command line decides before any pipeline is read.
var PipelineNames = []string{NameAuto, NameNative, NameVzctl, NamePrlctl}

// Names are the accepted --runtime settings.
var Names = append(slices.Clone(PipelineNames), NameLXC)

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
	// LXCPath and LXCNames configure the lxc runtime: the lxcpath, and
	// the names behind the numbers its containers have in the process.
	LXCPath  string
	LXCNames LXCNames
	// Debug and Warn take the selection's one-line notices; nil drops them.
	Debug, Warn func(msg string)
}

// Resolve turns a setting into a concrete runtime name. On the real host
// (root "/") "auto" becomes vzctl if it is on PATH, else prlctl if it is,
// else native; under any other root it is native.
func (s Selector) Resolve(setting string) (string, error) {
	switch setting {
	case NameNative, NameVzctl, NamePrlctl, NameLXC:
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
	return "", fmt.Errorf("unknown runtime %q: use auto, native, vzctl, prlctl or lxc", setting)
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
	if name == NameLXC {
		return s.newLXC()
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

// newLXC builds the lxc runtime; LXCPath and LXCNames must be set (the
// host's containers are then LXC's).
func (s Selector) newLXC() (Runtime, string, error) {
	if s.LXCPath == "" || s.LXCNames == nil {
		return nil, "", fmt.Errorf("runtime lxc: the containers are not LXC's (give --runtime lxc on the command line)")
	}
	start, err := s.lookPath("lxc-start")
	if err != nil {
		return nil, "", fmt.Errorf("runtime lxc: lxc-start is not on PATH (install Debian's lxc package): %w", err)
	}
	return NewLXC(s.LXCPath, filepath.Dir(start), s.LXCNames), NameLXC, nil
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
