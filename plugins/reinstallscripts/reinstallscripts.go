package reinstallscripts

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/hooks"
	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Name is the plugin's name in pipelines (plugin = "reinstall-scripts").
const Name = "reinstall-scripts"

// DataRoot is REINSTALL_DATA_ROOT: where the hooks find the old files.
const DataRoot = "/old"

// Plugin returns the reinstall-scripts plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: Name, Version: version.Version, Stages: map[string]sdk.Stage{sdk.KindConfigure: stage{}}}
}

type stage struct{}

// outputs are what the stage returns.
var outputs = []sdk.Output{
	{Name: "ran", Type: "string", Description: "the hooks that ran, comma-separated"},
}

func (stage) Schema() sdk.Schema                                   { return sdk.Schema{Outputs: outputs} }
func (stage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

// Env is the exact environment of a hook: vps.configure's plus
// REINSTALL_DATA_ROOT.
func Env(veid string) []string {
	return []string{
		"HOME=/",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SHELL=/bin/sh",
		"VEID=" + veid,
		"REINSTALL_DATA_ROOT=" + DataRoot,
	}
}

// Run runs the selected hooks one after the other inside the running
// container: the content on stdin to /bin/bash (or /bin/sh where the
// container has no bash), output to the stage's log. A hook that exits
// non-zero fails the stage. The hooks change only the new area (and /old,
// which is theirs to read), so there is nothing to roll back but the new area.
func (stage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	if rc.Options.SkipScripts {
		req.UI.Log("info", "--skipscripts: no reinstall.d hook runs")
		return &sdk.Result{Outputs: map[string]string{"ran": ""}}, nil
	}
	host, err := hooks.Host(rc.HostRoot)
	if err != nil {
		return nil, err
	}
	var old oldarea.Area
	var container []string
	var containerErr error
	if len(rc.Options.Scripts) > 0 {
		if old, err = oldarea.Find(rc); err != nil {
			return nil, err
		}
		container, containerErr = hooks.Container(old.Path)
		if containerErr != nil {
			req.UI.Log("warn", "the old container's own hooks are not run: "+containerErr.Error())
		}
	}
	selected, err := hooks.Select(host, container, rc.Options.Scripts)
	var nf *hooks.NotFoundError
	if errors.As(err, &nf) {
		nf.HostDir, nf.CTDir, nf.ContainerListErr = rc.HostPath(hooks.Dir), filepath.Join(old.Path, hooks.Dir), containerErr
	}
	if err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		req.UI.Log("info", "no hook in "+rc.HostPath(hooks.Dir))
		return &sdk.Result{Outputs: map[string]string{"ran": ""}}, nil
	}
	if old.Path == "" {
		if old, err = oldarea.Find(rc); err != nil {
			return nil, err
		}
	}
	if !old.InContainer() {
		req.UI.Log("warn", fmt.Sprintf("the old private area is parked at %s, outside the container (default mode with --skipbackup): REINSTALL_DATA_ROOT=%s names nothing inside it", old.Path, DataRoot))
	}
	shell := "/bin/sh"
	if p, err := req.Host.Probe(ctx, "/bin/bash"); err == nil && p.Exists && p.Executable {
		shell = "/bin/bash"
	}
	// Every hook is read before the first runs: one that cannot be (or is
	// larger than hooks.MaxHookSize) fails the stage before any has changed anything.
	contents := make([][]byte, len(selected))
	for i, h := range selected {
		if contents[i], err = hooks.Read(h, rc.HostRoot, old.Path); err != nil {
			var tl *hooks.TooLargeError
			if errors.As(err, &tl) {
				return nil, err
			}
			return nil, fmt.Errorf("read the %s hook %s: %w", h.Origin, hooks.ShownName(h.Name), err)
		}
	}
	var ran []string
	for i, h := range selected {
		if err := runHook(ctx, req, h, contents[i], shell); err != nil {
			return nil, err
		}
		ran = append(ran, h.Name)
	}
	return &sdk.Result{Outputs: map[string]string{"ran": strings.Join(ran, ",")}}, nil
}

// runHook feeds one hook's content to the shell inside the container.
func runHook(ctx context.Context, req *sdk.RunRequest, h hooks.Hook, content []byte, shell string) error {
	rc := req.Context
	shown := hooks.ShownName(h.Name)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		content = append(content, '\n')
	}
	if err := req.Host.Journal(ctx, "run-hook", sdk.PhaseBegin, map[string]string{"hook": h.Name, "origin": h.Origin, "shell": shell}); err != nil {
		return err
	}
	req.UI.Log("info", fmt.Sprintf("running the %s hook %s", h.Origin, shown))
	stdout, stderr := sdk.LogWriter(req.UI, "info"), sdk.LogWriter(req.UI, "warn")
	status, err := req.Host.Exec(ctx, sdk.ExecRequest{
		Argv:   []string{shell},
		Env:    Env(rc.ScriptVEID()),
		Stdin:  content,
		Stdout: stdout,
		Stderr: stderr,
	})
	stdout.Close()
	stderr.Close()
	if err != nil {
		return fmt.Errorf("%s hook %s: %w", h.Origin, shown, err)
	}
	if err := req.Host.Journal(ctx, "run-hook", sdk.PhaseDone, map[string]string{"exit": strconv.Itoa(status)}); err != nil {
		return err
	}
	if status != 0 {
		return fmt.Errorf("the %s hook %s exited with status %d inside the container", h.Origin, shown, status)
	}
	return nil
}
