package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Hook modes (the stage's "mode" output).
const (
	ModeCustom  = "custom"
	ModeDefault = "default"
)

// exitDefault is the documented "do the default reinstall" exit status.
const exitDefault = 128

type hook struct{}

// hookOutputs are what a reinstall-hook stage returns.
var hookOutputs = []sdk.Output{
	{Name: "mode", Type: "string", Description: "custom (the script exited 0 and built the area) or default (exit 128, or no script)"},
	{Name: "ran", Type: "bool", Description: "whether the script existed and ran"},
	{Name: "exit", Type: "number", Description: "the script's exit status, when it ran"},
}

func (hook) Schema() sdk.Schema {
	return sdk.Schema{Attributes: schema.Attributes, Outputs: hookOutputs}
}
func (hook) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics { return validate(cfg) }

// Run runs vps.reinstall on the host with the documented argv, environment,
// stdin and cwd; its exit status chooses custom (0) or default (128) mode.
func (hook) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	rc := req.Context
	path := rc.HostPath(c.Script)
	name := filepath.Base(path)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return &sdk.Result{Outputs: map[string]string{"mode": ModeDefault, "ran": "false"}}, nil
	}
	created, err := ensureTmpArea(ctx, req)
	if err != nil {
		return nil, err
	}
	argv := []string{path, "--veid", rc.ScriptVEID(), "--ve_private_tmp", rc.PrivateTmp, "--ve_private", rc.Private}
	if err := req.Host.Journal(ctx, "run-script", sdk.PhaseBegin, map[string]string{"script": path}); err != nil {
		return nil, err
	}
	status, err := runHostScript(ctx, argv, baseEnv(rc.ScriptVEID()), req.UI)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := req.Host.Journal(ctx, "run-script", sdk.PhaseDone, map[string]string{"exit": strconv.Itoa(status)}); err != nil {
		return nil, err
	}
	switch status {
	case 0:
		if err := checkCustomArea(rc); err != nil {
			return nil, fmt.Errorf("%s exited 0 but %w", name, err)
		}
		return &sdk.Result{Outputs: map[string]string{"mode": ModeCustom, "ran": "true", "exit": "0"}}, nil
	case exitDefault:
		if created {
			// No stage before the hook fills the area (libvzctl's order): what
			// the script did there is discarded, the area left empty again.
			if err := emptyTmpArea(ctx, req); err != nil {
				return nil, err
			}
			req.UI.Log("info", name+" exited 128: the temporary area is emptied for the default reinstall")
			return &sdk.Result{Outputs: map[string]string{"mode": ModeDefault, "ran": "true", "exit": "128"}, Reprovision: true}, nil
		}
		req.UI.Log("info", name+" exited 128: the temporary area is provisioned again from the template")
		return &sdk.Result{Outputs: map[string]string{"mode": ModeDefault, "ran": "true", "exit": "128"}, Reprovision: true}, nil
	default:
		return nil, fmt.Errorf("%s exited with status %d (0 keeps its area, 128 asks for the default)", name, status)
	}
}

// runHostScript runs a script in its own process group, output to the log
// line by line, stdin /dev/null, cwd /. A cancelled ctx kills the group.
func runHostScript(ctx context.Context, argv, env []string, ui sdk.UI) (int, error) {
	cmd := exec.CommandContext(ctx, argv[0])
	cmd.Args = argv
	cmd.Env = env
	cmd.Dir = "/"
	stdout, stderr := sdk.LogWriter(ui, "info"), sdk.LogWriter(ui, "warn")
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, fmt.Errorf("stopped: %w", ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		ws := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return -1, fmt.Errorf("killed by signal %d (%s)", int(ws.Signal()), unix.SignalName(ws.Signal()))
		}
		return ws.ExitStatus(), nil
	}
	if errors.Is(err, os.ErrPermission) {
		return -1, fmt.Errorf("cannot run it: %w (make it executable: chmod +x %s)", err, argv[0])
	}
	if err != nil {
		return -1, fmt.Errorf("cannot run it: %w", err)
	}
	return 0, nil
}

// ensureTmpArea creates an empty temporary area when no stage before the
// hook did (a pipeline that runs the hook first, as libvzctl does).
func ensureTmpArea(ctx context.Context, req *sdk.RunRequest) (created bool, err error) {
	tmp := req.Context.PrivateTmp
	if _, err := os.Lstat(tmp); err == nil {
		return false, nil
	}
	if err := req.Host.Journal(ctx, "create-tmp", sdk.PhaseBegin, map[string]string{"path": tmp}); err != nil {
		return false, err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", tmp, err)
	}
	return true, req.Host.Journal(ctx, "create-tmp", sdk.PhaseDone, nil)
}

// emptyTmpArea discards the area the hook created (through the trash,
// never following a symlink the script left) and creates it empty again.
// Its rollback is create-tmp's: the area is discarded whatever it holds.
func emptyTmpArea(ctx context.Context, req *sdk.RunRequest) error {
	rc := req.Context
	if err := req.Host.Journal(ctx, "empty-tmp", sdk.PhaseBegin, map[string]string{"path": rc.PrivateTmp}); err != nil {
		return err
	}
	if err := safefs.MoveToTrash(rc.PrivateTmp, rc.Trash); err != nil {
		return fmt.Errorf("discard %s: %w", rc.PrivateTmp, err)
	}
	if err := os.Mkdir(rc.PrivateTmp, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", rc.PrivateTmp, err)
	}
	return req.Host.Journal(ctx, "empty-tmp", sdk.PhaseDone, nil)
}

// checkCustomArea: in custom mode the area the script left becomes the new
// private area, so it must be a real directory on VE_PRIVATE's file system
// with no mount inside.
func checkCustomArea(rc sdk.RunContext) error {
	if err := safefs.CheckPrivateArea(rc.PrivateTmp); err != nil {
		return fmt.Errorf("left %s unusable: %w", rc.PrivateTmp, err)
	}
	var tmp, parent unix.Stat_t
	if err := unix.Lstat(rc.PrivateTmp, &tmp); err != nil {
		return fmt.Errorf("left no %s: %w", rc.PrivateTmp, err)
	}
	if err := unix.Stat(filepath.Dir(rc.Private), &parent); err != nil {
		return err
	}
	if tmp.Dev != parent.Dev {
		return fmt.Errorf("left %s on another file system than %s", rc.PrivateTmp, rc.Private)
	}
	return nil
}

// Rollback removes a temporary area the hook itself created.
func (hook) Rollback(_ context.Context, req *sdk.RollbackRequest) error {
	for _, e := range req.Entries {
		if e.Step == "create-tmp" {
			rc := req.Context
			if err := safefs.RemoveTree(rc.Trash); err != nil {
				return err
			}
			return safefs.MoveToTrash(rc.PrivateTmp, rc.Trash)
		}
	}
	return nil
}
