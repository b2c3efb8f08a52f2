package engine

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

var osTemplateNameRE = regexp.MustCompile(`^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$`)

// checkOSTemplateConfig refuses --ostemplate, before any change, when the
// container's config could not be rewritten once the run has passed the
// point of no return: a config that is a symlink (Virtuozzo 7's link to
// <VE_PRIVATE>/ve.conf) is never replaced by a plain file.
func checkOSTemplateConfig(h *vz.Host, ctid int, ostemplate string) error {
	if ostemplate == "" {
		return nil
	}
	// The name goes into a file that shell scripts source: only the
	// characters of template names (vzctl's), no $, backquote or backslash.
	if !osTemplateNameRE.MatchString(ostemplate) {
		return refusedBecause(ReasonUsage, "--ostemplate %q: a template name to record in the config may hold only letters, digits, '.', '_', '+' and '-'", ostemplate)
	}
	err := h.CheckConfigWritable(ctid)
	switch {
	case errors.Is(err, vz.ErrConfigSymlink):
		return refusedBecause(ReasonConfigInvalid, "--ostemplate cannot record OSTEMPLATE: %v; set OSTEMPLATE=\"%s\" there by hand and run reinstall without --ostemplate", err, ostemplate)
	case err != nil:
		return refusedBecause(ReasonConfigInvalid, "--ostemplate cannot record OSTEMPLATE: %v", err)
	}
	return nil
}

// writeOSTemplate writes --ostemplate as OSTEMPLATE in the container's
// config. It runs right after the commit record, and again when a recovery
// finishes the run, so the config changes only with a reinstall that went
// through: a rollback leaves it as it was. Writing the same value twice
// leaves the file alone.
func (r *run) writeOSTemplate() error {
	if r.o.OSTemplate == "" {
		return nil
	}
	if err := r.host.SetConfigValue(r.ctid, "OSTEMPLATE", r.o.OSTemplate); err != nil {
		return fmt.Errorf("record OSTEMPLATE=%q for --ostemplate: %w", r.o.OSTemplate, err)
	}
	return nil
}

// failPastCommit ends a run that failed after the point of no return
// outside a stage: the journal stays for `reinstall recover` to finish.
func (r *run) failPastCommit(err error) error {
	r.journal.Close()
	r.journal = nil
	return &Error{Code: ExitRecover, Stage: StageConfig, Err: fmt.Errorf(
		"%v; the new container is in place, run `%s` to finish", err, recoverCommand(r.host, r.ctid))}
}

// StageConfig names, in errors, the update of the container's config that
// follows the point of no return.
const StageConfig = "config"
