package copyfromold

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Name is the plugin's name in pipelines (plugin = "copy-from-old").
const Name = "copy-from-old"

// Plugin returns the copy-from-old plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: Name, Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindConfigure: stage{}}}
}

type config struct {
	Paths []string `hcl:"paths" description:"absolute paths inside the container to copy from the old private area; * ? [..] match within one component (/etc/ssh/ssh_host_*)"`
}

var schema = withOutputs(sdk.MustSchemaFromStruct(&config{}))

// withOutputs declares what the stage returns.
func withOutputs(s sdk.Schema) sdk.Schema {
	s.Outputs = []sdk.Output{
		{Name: "paths", Type: "number", Description: "how many of the configured paths matched something in the old area"},
		{Name: "entries", Type: "number", Description: "files, directories and links copied"},
	}
	return s
}

type stage struct{}

func (stage) Schema() sdk.Schema { return schema }

// Validate checks each path: absolute, clean, not / and not under /old
// (where the old area itself sits in the new one).
func (stage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	if !cfg.IsKnown("paths") {
		return nil
	}
	var c config
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: "Invalid configuration", Detail: err.Error(), Attribute: "paths"}}
	}
	if len(c.Paths) == 0 {
		return sdk.Diagnostics{{Warning: true, Summary: "Nothing to copy", Detail: "paths is empty, so this stage copies nothing.", Attribute: "paths"}}
	}
	var diags sdk.Diagnostics
	for i, p := range c.Paths {
		if problem := checkPath(p); problem != "" {
			diags = append(diags, sdk.Diagnostic{
				Summary:   "Invalid path to copy",
				Detail:    fmt.Sprintf("%q %s.", p, problem),
				Attribute: fmt.Sprintf("paths[%d]", i),
			})
		}
	}
	return diags
}

func checkPath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "is not absolute: write the path as the container sees it, e.g. /home"
	case path.Clean(p) != p:
		return fmt.Sprintf("is not clean (write %s)", path.Clean(p))
	case p == "/":
		return "is the whole file system: name the directories to keep"
	case p == "/old" || strings.HasPrefix(p, "/old/"):
		return "is under /old, where the old area itself is: name the path as it was in the old container"
	}
	for _, c := range strings.Split(p[1:], "/") {
		if _, err := path.Match(c, ""); err != nil {
			return "has a malformed pattern"
		}
	}
	return ""
}

// Run copies every path that matches in the old area; a path that matches
// nothing is reported and skipped.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	rc := req.Context
	old, err := oldarea.Find(rc)
	if err != nil {
		return nil, err
	}
	cp, err := newCopier(old.Path, rc.Private)
	if err != nil {
		return nil, err
	}
	defer cp.close()
	// Modes are set exactly as they were, whatever the plugin's umask.
	defer unix.Umask(unix.Umask(0))
	matched := 0
	for i, pattern := range c.Paths {
		at := fmt.Sprintf("paths[%d]", i) // a failure points at its pattern in the pipeline file
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		matches, err := cp.glob(pattern)
		if err != nil {
			return nil, sdk.ErrorAt(at, fmt.Errorf("%s: %w", pattern, err))
		}
		for _, m := range cp.skipped {
			req.UI.Log("warn", m)
		}
		cp.skipped = nil
		if len(matches) == 0 {
			req.UI.Log("warn", fmt.Sprintf("%s: nothing in the old private area matches; skipped", pattern))
			continue
		}
		for _, rel := range matches {
			if err := req.Host.Journal(ctx, "copy", sdk.PhaseBegin, map[string]string{"path": "/" + rel}); err != nil {
				return nil, err
			}
			if err := cp.copyPath(rel); err != nil {
				return nil, sdk.ErrorAt(at, fmt.Errorf("copy /%s from the old private area: %w", rel, err))
			}
			if err := req.Host.Journal(ctx, "copy", sdk.PhaseDone, nil); err != nil {
				return nil, err
			}
			req.UI.Log("info", "kept /"+rel)
			matched++
		}
		for _, m := range cp.skipped {
			req.UI.Log("warn", m)
		}
		cp.skipped = nil
	}
	return &sdk.Result{Outputs: map[string]string{
		"paths":   strconv.Itoa(matched),
		"entries": strconv.Itoa(cp.entries),
	}}, nil
}
