package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// preflight makes every check of contract §2.0 before anything changes on
// disk or the container is stopped. On success the lock is held.
func preflight(ctx context.Context, o Options) (_ *run, err error) {
	ctid, name, err := o.Host.Resolve(o.Target)
	if err != nil {
		return nil, refused("%w", err)
	}
	if err := o.Host.CheckKnown(ctid); err != nil {
		return nil, refused("%w", err) // before the lock: an unknown container leaves no trace
	}
	// The pipeline is read and checked before the lock is taken: a file that
	// cannot be used is refused with nothing to release.
	p, err := loadPipeline(o)
	if err != nil {
		return nil, err
	}
	lock, err := o.Host.Lock(ctid, "reinstalling")
	if err != nil {
		var le *vz.LockedError
		if errors.As(err, &le) {
			return nil, &Error{Code: ExitLocked, Stage: StagePreflight, Err: fmt.Errorf("%v; wait for it to finish", le)}
		}
		return nil, refused("lock container %s: %v", o.Host.Label(ctid), err)
	}
	r := &run{o: o, host: o.Host, lock: lock, ctid: ctid, pipeline: p, plugins: map[string]*pluginhost.Plugin{}, secrets: secretsOf(o)}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if err := checkNoJournal(o.Host, ctid); err != nil {
		return nil, err
	}
	if err := useRuntime(&r.o, r.pipeline); err != nil {
		return nil, refused("container runtime: %v", err)
	}
	if err := r.lockRuntime(ctx); err != nil {
		return nil, refused("%v", err)
	}
	o = r.o
	c, err := checkContainer(ctx, o, ctid, name)
	if err != nil {
		return nil, err
	}
	r.ct = c.ct
	r.wasRunning = c.running
	r.runID = newRunID()
	r.rc = c.runContext(o, r.runID, c.ct.Private+".trash-"+r.runID)
	var st unix.Stat_t
	if err := unix.Lstat(c.ct.Private, &st); err != nil {
		return nil, refused("private area: %v", err)
	}
	r.origIno, r.origDev = st.Ino, st.Dev
	if err := r.preparePlugins(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// checkStartValues refuses the config values the start after the swap
// would refuse, so that they fail here, before anything is stopped or
// changed: a HOSTNAME sethostname(2) cannot take (over 64 bytes, or other
// than letters, digits, '-', '.', '_'), an INIT that is no absolute path.
func checkStartValues(ct *vz.Container) error {
	if ct.Hostname != "" {
		if err := runtime.CheckHostname(ct.Hostname); err != nil {
			return fmt.Errorf("%s: HOSTNAME: %w", ct.ConfigPath, err)
		}
	}
	if !filepath.IsAbs(ct.Init) {
		return fmt.Errorf("%s: INIT=%q: must be an absolute path inside the container", ct.ConfigPath, ct.Init)
	}
	return nil
}

// checkNoJournal refuses a container whose last reinstall did not finish.
func checkNoJournal(h *vz.Host, ctid int) error {
	if _, err := os.Lstat(h.JournalPath(ctid)); err == nil {
		return &Error{Code: ExitRecover, Stage: StagePreflight, Reason: ReasonJournalUnfinished, Err: fmt.Errorf(
			"an earlier reinstall of container %s did not finish (journal %s); run `%s` first",
			h.Label(ctid), h.JournalPath(ctid), recoverCommand(h, ctid))}
	}
	return nil
}

// checkedContainer is what preflight's read-only checks of a container found.
type checkedContainer struct {
	ct   *vz.Container
	name string // the name given, else the config's NAME
	// ostemplate is the template the run uses: --ostemplate, else OSTEMPLATE.
	ostemplate string
	template   string // the template cache file
	running    bool
}

// checkContainer makes the container checks of contract §2.0, in order: the
// config loads (and is isolated, §6), the private area is a real directory
// with no mount inside, the template exists (and a config that --ostemplate
// is to update is no symlink), the container is stopped or
// --stop was given, and no leftover of an interrupted run is there.
// preflight and plan share it.
func checkContainer(ctx context.Context, o Options, ctid int, name string) (*checkedContainer, error) {
	ct, err := o.Host.LoadContainerChecked(ctid) // with CheckIsolation, contract §6
	if err != nil {
		return nil, refused("%w", withReason(ReasonConfigInvalid, err))
	}
	if err := checkStartValues(ct); err != nil {
		return nil, refused("%w", withReason(ReasonConfigInvalid, err))
	}
	if name == "" {
		name = ct.Name
	}
	if err := safefs.CheckPrivateArea(ct.Private); err != nil {
		return nil, refused("private area of container %s: %w", o.Host.Label(ctid), withReason(ReasonPrivateMissing, err))
	}
	if err := checkLayout(ct); err != nil {
		return nil, err
	}
	ostemplate := ct.OSTemplate
	if o.OSTemplate != "" {
		ostemplate = o.OSTemplate
	}
	if ostemplate == "" {
		return nil, refusedBecause(ReasonConfigInvalid, "container %s has no OSTEMPLATE in %s; set it or pass --ostemplate NAME", o.Host.Label(ctid), ct.ConfigPath)
	}
	tmpl, err := o.Host.FindTemplate(ostemplate)
	if err != nil {
		return nil, refused("%w", withReason(ReasonConfigInvalid, err))
	}
	if err := checkOSTemplateConfig(o.Host, ctid, o.OSTemplate); err != nil {
		return nil, err
	}
	state, err := o.Runtime.Status(ctx, ctid)
	if err != nil {
		return nil, refused("status of container %s: %v", o.Host.Label(ctid), err)
	}
	running := state == runtime.Running
	if running && !o.Stop {
		return nil, &Error{Code: ExitRunning, Stage: StagePreflight, Err: fmt.Errorf(
			"container %s is running; stop it first or pass --stop (it is stopped right before the swap)", o.Host.Label(ctid))}
	}
	if err := checkLeftovers(ct.Private); err != nil {
		return nil, err
	}
	return &checkedContainer{ct: ct, name: name, ostemplate: ostemplate, template: tmpl, running: running}, nil
}

// runContext is the run context a run with this container would have.
func (c *checkedContainer) runContext(o Options, runID, trash string) sdk.RunContext {
	ct := c.ct
	return sdk.RunContext{
		RunID:           runID,
		CTID:            ctidOf(ct),
		CTName:          c.name,
		VEID:            ct.Label(),
		HostRoot:        o.Host.Root,
		Private:         ct.Private,
		PrivateTmp:      ct.Private + ".reinstall",
		PrivatePrevious: ct.Private + ".previous",
		Trash:           trash,
		VERoot:          ct.Root,
		OSTemplate:      c.ostemplate,
		TemplateFile:    c.template,
		Hostname:        ct.Hostname,
		Options:         sdk.Options{SkipBackup: o.SkipBackup, Stop: o.Stop, ResetPwDB: o.ResetPwDB, SkipScripts: o.SkipScripts, Scripts: o.Scripts, NoHealth: o.NoHealth, Extra: map[string]string{}},
		StageOutputs:    map[string]map[string]string{},
		Config:          ct.Keys,
	}
}

// loadPipeline picks --pipeline FILE, else the site file, else the embedded
// default, loads it and assigns its variables (--var, --var-file,
// REINSTALL_VAR_<name>, defaults).
func loadPipeline(o Options) (*pipeline.Pipeline, error) {
	v := loadForCheck(o, false)
	if v.Valid() {
		for _, d := range v.Diags {
			if o.Logger != nil && d.Subject != nil {
				o.Logger.Warn(d.Summary, "at", d.Subject.String(), "detail", d.Detail)
			}
		}
		return v.Pipeline, nil
	}
	if len(v.Sources) == 0 {
		return nil, refusedBecause(ReasonPipelineInvalid, "pipeline: %s", v.Diags[0].Detail)
	}
	return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(pipeline.FirstError(v.Diags)), Diags: v.Diags, Sources: v.Sources}
}

// diagsError is a refusal carrying diagnostics and the source they point into.
func diagsError(diags hcl.Diagnostics, filename string, src []byte) *Error {
	return &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(pipeline.FirstError(diags)), Diags: diags,
		Sources: map[string][]byte{filename: src}}
}

// checkLeftovers refuses a temporary, parked or trash area that no journal
// explains: it is never reused or silently deleted.
func checkLeftovers(private string) error {
	candidates := []string{private + ".reinstall", private + ".previous"}
	trash, _ := filepath.Glob(private + ".trash-*")
	candidates = append(candidates, trash...)
	for _, c := range candidates {
		if _, err := os.Lstat(c); err == nil {
			return refusedBecause(ReasonLeftovers, "%s is left from an interrupted run and no journal explains it; inspect it and remove it (or move it away) before reinstalling", c)
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// ctidOf is the CTID a run context carries: none for an LXC container,
// whose number only stands for its name inside this process.
func ctidOf(ct *vz.Container) int {
	if ct.LXC {
		return 0
	}
	return ct.ID
}

// RefuseUnfinished refuses (exit 3) to act on a container whose reinstall
// did not finish: its journal is there and no live run owns it. Starting,
// stopping or entering it then would run a half-built new area or let the
// container write to /old; only `reinstall recover` may touch it. holding
// tells that the caller took the container's lock itself, so no live run
// can own the journal; otherwise a run holding the lock (whose own steps
// call back, as a vzctl or prlctl wrapper does) is let through.
func RefuseUnfinished(h *vz.Host, ctid int, holding bool, stage string) error {
	if _, err := os.Lstat(h.JournalPath(ctid)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if !holding {
		if held, err := h.LockHeld(ctid); err != nil {
			return &Error{Code: ExitRefused, Stage: stage, Err: err}
		} else if held {
			return nil
		}
	}
	return &Error{Code: ExitRecover, Stage: stage, Reason: ReasonJournalUnfinished, Err: fmt.Errorf(
		"the last reinstall of container %s did not finish (journal %s); run `%s`",
		h.Label(ctid), h.JournalPath(ctid), recoverCommand(h, ctid))}
}
