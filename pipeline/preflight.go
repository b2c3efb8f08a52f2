package pipeline

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
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// preflight makes every check of contract §2.0 before anything changes on
// disk or the container is stopped. On success the lock is held.
func preflight(ctx context.Context, o Options) (_ *run, err error) {
	ctid, name, err := o.Host.Resolve(o.Target)
	if err != nil {
		return nil, refused("%v", err)
	}
	lock, err := o.Host.Lock(ctid, "reinstalling")
	if err != nil {
		var le *vz.LockedError
		if errors.As(err, &le) {
			return nil, &Error{Code: ExitLocked, Stage: StagePreflight, Err: fmt.Errorf("%v; wait for it to finish", le)}
		}
		return nil, refused("lock container %d: %v", ctid, err)
	}
	r := &run{o: o, host: o.Host, lock: lock, ctid: ctid, plugins: map[string]*pluginhost.Plugin{}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if _, statErr := os.Lstat(o.Host.JournalPath(ctid)); statErr == nil {
		return nil, &Error{Code: ExitRecover, Stage: StagePreflight, Err: fmt.Errorf(
			"an earlier reinstall of container %d did not finish (journal %s); run `reinstall recover %d` first",
			ctid, o.Host.JournalPath(ctid), ctid)}
	}
	if r.pipeline, err = loadPipeline(o); err != nil {
		return nil, err
	}
	ct, err := o.Host.LoadContainerChecked(ctid) // with CheckIsolation, contract §6
	if err != nil {
		return nil, refused("%v", err)
	}
	if name == "" {
		name = ct.Name
	}
	r.ct = ct
	if err := safefs.CheckPrivateArea(ct.Private); err != nil {
		return nil, refused("private area of container %d: %v", ctid, err)
	}
	if ct.OSTemplate == "" {
		return nil, refused("container %d has no OSTEMPLATE in %s", ctid, ct.ConfigPath)
	}
	tmpl, err := o.Host.FindTemplate(ct.OSTemplate)
	if err != nil {
		return nil, refused("%v", err)
	}
	state, err := o.Runtime.Status(ctx, ctid)
	if err != nil {
		return nil, refused("status of container %d: %v", ctid, err)
	}
	r.wasRunning = state == runtime.Running
	if r.wasRunning && !o.Stop {
		return nil, &Error{Code: ExitRunning, Stage: StagePreflight, Err: fmt.Errorf(
			"container %d is running; stop it first or pass --stop (it is stopped right before the swap)", ctid)}
	}
	r.runID = newRunID()
	r.rc = sdk.RunContext{
		RunID:           r.runID,
		CTID:            ctid,
		CTName:          name,
		HostRoot:        o.Host.Root,
		Private:         ct.Private,
		PrivateTmp:      ct.Private + ".reinstall",
		PrivatePrevious: ct.Private + ".previous",
		Trash:           ct.Private + ".trash-" + r.runID,
		VERoot:          ct.Root,
		OSTemplate:      ct.OSTemplate,
		TemplateFile:    tmpl,
		Hostname:        ct.Hostname,
		Options:         sdk.Options{SkipBackup: o.SkipBackup, Stop: o.Stop, Extra: map[string]string{}},
		StageOutputs:    map[string]map[string]string{},
		Config:          ct.Keys,
	}
	if err := checkLeftovers(ct.Private); err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Lstat(ct.Private, &st); err != nil {
		return nil, refused("private area: %v", err)
	}
	r.origIno, r.origDev = st.Ino, st.Dev
	if err := r.preparePlugins(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// loadPipeline picks --pipeline FILE, else the site file, else the embedded
// default, loads it and assigns its variables (--var, --var-file,
// REINSTALL_VAR_<name>, defaults).
func loadPipeline(o Options) (*Pipeline, error) {
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
		return nil, refused("pipeline: %s", v.Diags[0].Detail)
	}
	return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(firstError(v.Diags)), Diags: v.Diags, Sources: v.Sources}
}

// diagsError is a refusal carrying diagnostics and the source they point into.
func diagsError(diags hcl.Diagnostics, filename string, src []byte) *Error {
	return &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(firstError(diags)), Diags: diags,
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
			return refused("%s is left from an interrupted run and no journal explains it; inspect it and remove it (or move it away) before reinstalling", c)
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func firstError(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if d.Subject != nil {
				return fmt.Sprintf("%s:%d:%d: %s; %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary, d.Detail)
			}
			return fmt.Sprintf("%s; %s", d.Summary, d.Detail)
		}
	}
	return "invalid pipeline"
}

func itoa(i int) string { return strconv.Itoa(i) }
