package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/reinstall-dev/reinstall/internal/hooks"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// scriptFlags are Virtuozzo's account and hook flags of `reinstall CTID`:
// --resetpwdb, --skipscripts (--no-scripts), --scripts, --listscripts [--desc].
type scriptFlags struct {
	resetPwDB   bool
	skipScripts bool
	scripts     string
	list        bool
	desc        bool
	flags       *pflag.FlagSet
}

// register adds every flag; registerRunFlags those a plan takes too.
func (s *scriptFlags) register(f *pflag.FlagSet) {
	s.registerRunFlags(f)
	f.BoolVar(&s.list, "listscripts", false, "list the host's and the container's reinstall.d hooks, change nothing and exit")
	f.BoolVar(&s.desc, "desc", false, "with --listscripts: print each hook's <name>.desc, every line prefixed with \"name:\"")
}

func (s *scriptFlags) registerRunFlags(f *pflag.FlagSet) {
	s.flags = f
	f.BoolVar(&s.resetPwDB, "resetpwdb", false, "keep the template's /etc/passwd, shadow and group instead of merging the old container's accounts into them")
	f.BoolVar(&s.skipScripts, "skipscripts", false, "run no /etc/vz/reinstall.d hook")
	f.BoolVar(&s.skipScripts, "no-scripts", false, "the same as --skipscripts (prlctl's name)")
	f.StringVar(&s.scripts, "scripts", "", "run only the reinstall.d hooks named in `LIST` (separated by commas, spaces or tabs); the old container's own hooks run only when named here; an empty LIST runs none")
}

// hookOptions are the resolved flags, as pipeline.Options takes them.
type hookOptions struct {
	ResetPwDB   bool
	SkipScripts bool
	Scripts     []string
}

// options resolves the flags and, unless no hook runs, checks before
// anything changes (exit 2 otherwise) that each --scripts name is a hook
// and that no hook to run is larger than a hook may be.
func (s *scriptFlags) options(h *vz.Host, target string) (hookOptions, error) {
	o := hookOptions{ResetPwDB: s.resetPwDB, SkipScripts: s.skipScripts, Scripts: hooks.SplitNames(s.scripts)}
	if s.desc {
		return o, usageError("--desc goes with --listscripts")
	}
	if s.flags.Changed("scripts") && len(o.Scripts) == 0 {
		o.SkipScripts = true // vzctl: --scripts '' runs none
	}
	if s.skipScripts && len(o.Scripts) > 0 {
		return o, usageError("--scripts and --skipscripts contradict each other; give one of them")
	}
	if o.SkipScripts {
		return o, nil
	}
	return o, checkHooks(h, target, o.Scripts)
}

// checkHooks refuses a --scripts name that is neither a host hook nor one
// of the container's own, and a hook to run larger than
// hooks.MaxHookSize. A container that cannot be resolved or
// loaded is left for the reinstall's preflight to refuse, with its
// message; a hook that cannot be read, for the stage to report.
func checkHooks(h *vz.Host, target string, names []string) error {
	ct, err := loadForHooks(h, target)
	if err != nil {
		return nil
	}
	host, err := hooks.Host(h.Root)
	if err != nil {
		return refusal(err)
	}
	var container []string
	var listErr error
	if len(names) > 0 {
		container, listErr = hooks.Container(ct.Private)
	}
	selected, err := hooks.Select(host, container, names)
	var nf *hooks.NotFoundError
	if errors.As(err, &nf) {
		nf.HostDir, nf.CTDir, nf.ContainerListErr = h.Path(hooks.Dir), filepath.Join(ct.Private, hooks.Dir), listErr
	}
	if err != nil {
		e := refusal(err).(*engine.Error)
		if nf != nil {
			e.Reason = engine.ReasonUsage
		}
		return e
	}
	for _, hook := range selected {
		var tooLarge *hooks.TooLargeError
		if _, err := hooks.Read(hook, h.Root, ct.Private); errors.As(err, &tooLarge) {
			return refusal(err)
		}
	}
	return nil
}

// listHooks prints the host's hooks, then the container's own (read in its
// private area, never through a symlink), one per line marked with where
// it comes from; with --desc, vzctl's "name:line" lines instead. It
// changes nothing and takes no lock.
func (s *scriptFlags) listHooks(w, errw io.Writer, h *vz.Host, target string) error {
	ct, err := loadForHooks(h, target)
	if err != nil {
		return refusal(err)
	}
	host, err := hooks.Host(h.Root)
	if err != nil {
		return refusal(err)
	}
	container, err := hooks.Container(ct.Private)
	if err != nil {
		fmt.Fprintf(errw, "reinstall: the container's own hooks are not listed: %v\n", err)
	}
	var listed []hooks.Hook
	for _, n := range host {
		listed = append(listed, hooks.Hook{Name: n, Origin: hooks.OriginHost})
	}
	for _, n := range container {
		listed = append(listed, hooks.Hook{Name: n, Origin: hooks.OriginContainer})
	}
	for _, hook := range listed {
		lines := []string{hooks.ShownName(hook.Name)}
		if s.desc {
			desc, truncated, ok := hooks.Description(hook, h.Root, ct.Private)
			lines = hooks.DescriptionLines(hook.Name, desc, truncated, ok)
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%-9s %s\n", hook.Origin, l)
		}
	}
	return nil
}

func loadForHooks(h *vz.Host, target string) (*vz.Container, error) {
	ctid, _, err := h.Resolve(target)
	if err != nil {
		return nil, err
	}
	return h.LoadContainer(ctid)
}

func refusal(err error) error {
	return &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Err: err}
}

func usageError(msg string) error {
	return &exitError{code: engine.ExitRefused, err: errors.New(msg)}
}
