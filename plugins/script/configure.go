package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reinstall-dev/reinstall/internal/vz"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

type configure struct{}

// configureOutputs are what a script configure stage returns.
var configureOutputs = []sdk.Output{
	{Name: "ran", Type: "bool", Description: "whether the script existed and ran"},
	{Name: "exit", Type: "number", Description: "the script's exit status, when it ran"},
}

func (configure) Schema() sdk.Schema {
	return sdk.Schema{Attributes: schema.Attributes, Outputs: configureOutputs}
}
func (configure) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics { return validate(cfg) }

// Run feeds the script's content on stdin to /bin/bash (or /bin/sh where the
// container has no bash) inside the running container (contract §2.5).
func (configure) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	path := req.Context.HostPath(c.Script)
	name := filepath.Base(path)
	content, err := vz.ReadConfigFile(path) // a FIFO is refused, never waited on
	if errors.Is(err, os.ErrNotExist) {
		return &sdk.Result{Outputs: map[string]string{"ran": "false"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(content) > 0 && content[len(content)-1] != '\n' {
		content = append(content, '\n')
	}
	shell := "/bin/sh"
	if p, err := req.Host.Probe(ctx, "/bin/bash"); err == nil && p.Exists && p.Executable {
		shell = "/bin/bash"
	}
	if err := req.Host.Journal(ctx, "run-script", sdk.PhaseBegin, map[string]string{"script": path, "shell": shell}); err != nil {
		return nil, err
	}
	stdout, stderr := sdk.LogWriter(req.UI, "info"), sdk.LogWriter(req.UI, "warn")
	status, err := req.Host.Exec(ctx, sdk.ExecRequest{
		Argv:   []string{shell},
		Env:    baseEnv(req.Context.ScriptVEID()),
		Stdin:  content,
		Stdout: stdout,
		Stderr: stderr,
	})
	stdout.Close()
	stderr.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := req.Host.Journal(ctx, "run-script", sdk.PhaseDone, map[string]string{"exit": fmt.Sprint(status)}); err != nil {
		return nil, err
	}
	if status != 0 {
		return nil, fmt.Errorf("%s exited with status %d inside the container", name, status)
	}
	return &sdk.Result{Outputs: map[string]string{"ran": "true", "exit": "0"}}, nil
}
