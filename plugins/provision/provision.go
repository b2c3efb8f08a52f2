package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/templates"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Plugin returns the provision plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "provision", Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindProvision: stage{}}}
}

type stage struct{}

// config is a provision stage's body.
type config struct {
	Cache string `hcl:"cache,optional" enum:"auto,always,off" default:"auto" description:"the unpacked template cache $TEMPLATE/cache/<name>.d: \"auto\" (default) clones it where the file system can reflink (btrfs, xfs) and extracts the archive elsewhere; \"always\" clones it everywhere (content copied in the kernel without reflinks); \"off\" always extracts"`
}

var schema = withOutputs(sdk.MustSchemaFromStruct(config{}))

// withOutputs declares what the stage returns.
func withOutputs(s sdk.Schema) sdk.Schema {
	s.Outputs = []sdk.Output{
		{Name: "files", Type: "number", Description: "entries written into the new area"},
		{Name: "bytes", Type: "number", Description: "bytes written into the new area"},
		{Name: "method", Type: "string", Description: "how the area was built: untar or clone"},
	}
	return s
}

// Journal steps.
const (
	stepCreate = "create"
	stepUnpack = "unpack"
)

func (stage) Schema() sdk.Schema { return schema }

func (stage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	_, diags := decode(cfg)
	return diags
}

func decode(cfg sdk.Config) (config, sdk.Diagnostics) {
	c := config{Cache: templates.CacheAuto}
	if err := cfg.Decode(&c); err != nil {
		return c, sdk.Diagnostics{{Summary: "Invalid configuration", Detail: err.Error()}}
	}
	switch c.Cache {
	case templates.CacheAuto, templates.CacheAlways, templates.CacheOff:
		return c, nil
	}
	return c, sdk.Diagnostics{{Summary: "Unknown template cache mode",
		Detail: fmt.Sprintf("cache is %q; use \"auto\", \"always\" or \"off\".", c.Cache), Attribute: "cache"}}
}

// Run creates <VE_PRIVATE>.reinstall (or takes the empty one an earlier
// stage created) and unpacks the template into it.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	tmp := rc.PrivateTmp
	cfg, diags := decode(req.Config)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", diags[0].Summary, diags[0].Detail)
	}
	if err := req.Host.Journal(ctx, stepCreate, sdk.PhaseBegin, map[string]string{"path": tmp}); err != nil {
		return nil, err
	}
	created, err := createArea(tmp)
	if err != nil {
		return nil, err
	}
	if err := req.Host.Journal(ctx, stepCreate, sdk.PhaseDone, map[string]string{"path": tmp, "created": strconv.FormatBool(created)}); err != nil {
		return nil, err
	}
	if err := req.Host.Journal(ctx, stepUnpack, sdk.PhaseBegin, map[string]string{"template": rc.TemplateFile}); err != nil {
		return nil, err
	}
	req.UI.Log("info", fmt.Sprintf("unpacking %s into %s", rc.TemplateFile, tmp))
	last := time.Now()
	var archiveSize int64 // the progress bar's total, for an extraction
	if st, err := os.Stat(rc.TemplateFile); err == nil {
		archiveSize = st.Size()
	}
	log := func(msg string) { req.UI.Log("info", msg) }
	method, stats, err := templates.Unpack(ctx, rc.TemplateFile, tmp, cfg.Cache, log, func(s safefs.Stats) {
		if time.Since(last) >= 200*time.Millisecond { // at most 5 reports a second
			last = time.Now()
			req.UI.Report(unpackProgress("unpacking "+rc.OSTemplate, s, archiveSize, false))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", rc.TemplateFile, err)
	}
	if err := req.Host.Journal(ctx, stepUnpack, sdk.PhaseDone, map[string]string{"method": method}); err != nil {
		return nil, err
	}
	if method == templates.MethodUntar {
		stats.Read = archiveSize
	}
	req.UI.Report(unpackProgress("unpacked "+rc.OSTemplate, stats, archiveSize, true))
	return &sdk.Result{Outputs: map[string]string{
		"files":  strconv.FormatInt(stats.Files, 10),
		"bytes":  strconv.FormatInt(stats.Bytes, 10),
		"method": method,
	}}, nil
}

// unpackProgress reports an extraction as the archive's bytes read of its
// size, a clone as the bytes copied (no total), with the entries written.
// The last report of a clone has its bytes as the total.
func unpackProgress(what string, s safefs.Stats, archiveSize int64, last bool) sdk.Progress {
	p := sdk.Progress{Message: fmt.Sprintf("%s: %.1f MiB written", what, float64(s.Bytes)/(1<<20)), Done: s.Bytes, Unit: "bytes", Files: s.Files}
	switch {
	case s.Read > 0:
		p.Done, p.Total = s.Read, archiveSize
	case last:
		p.Total = s.Bytes
	}
	return p
}

// createArea makes the temporary area 0700. An existing empty directory (an
// earlier stage of this run made it) is taken as it is.
func createArea(dir string) (created bool, err error) {
	err = os.Mkdir(dir, 0o700)
	if err == nil {
		return true, safefs.SyncDir(parentOf(dir))
	}
	if !errors.Is(err, os.ErrExist) {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	fi, lerr := os.Lstat(dir)
	if lerr != nil || !fi.IsDir() {
		return false, fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, rerr := os.ReadDir(dir)
	if rerr != nil || len(entries) > 0 {
		return false, fmt.Errorf("%s exists and is not empty; it is not provisioned over", dir)
	}
	return false, os.Chmod(dir, 0o700)
}

// Rollback discards the temporary area if this stage created it: renamed to
// the trash, then deleted without following any symlink (contract §3).
func (stage) Rollback(ctx context.Context, req *sdk.RollbackRequest) error {
	created := false
	for _, e := range req.Entries {
		if e.Step == stepCreate && (e.Phase == sdk.PhaseBegin || e.Data["created"] == "true") {
			created = true
		}
		if e.Step == stepCreate && e.Phase == sdk.PhaseDone && e.Data["created"] == "false" {
			created = false
		}
	}
	if !created {
		return nil
	}
	rc := req.Context
	if err := safefs.RemoveTree(rc.Trash); err != nil {
		return err
	}
	if err := safefs.MoveToTrash(rc.PrivateTmp, rc.Trash); err != nil {
		return fmt.Errorf("discard %s: %w", rc.PrivateTmp, err)
	}
	return nil
}

func parentOf(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}
