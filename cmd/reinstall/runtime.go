package main

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// runtimeSelector builds the runtimes a host can use: the native one keeps
// its state under the host's /run/reinstall/ct; under a --root other than
// "/" auto is native, and a tool named explicitly draws a warning (given
// once per command, however many runtimes it builds) that it acts on the
// real host's containers.
func (g *globals) runtimeSelector(h *vz.Host) runtime.Selector {
	return runtime.Selector{
		StateDir: h.Path("/run/reinstall/ct"),
		SelfExe:  "/proc/self/exe",
		Root:     h.Root,
		LXCNames: h,
		LXCPath:  lxcPathOf(h),
		Debug:    func(msg string) { g.runtimeLog().Debug(msg) },
		Warn: func(msg string) {
			g.toolWarning.Do(func() { g.runtimeLog().Warn(msg) })
		},
	}
}

// defaultLXCPath is LXC's own default lxcpath (lxc-config lxc.lxcpath).
func defaultLXCPath() (string, error) {
	cmd := exec.Command("lxc-config", "lxc.lxcpath")
	cmd.Env = runtime.ToolEnv
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("lxc-config lxc.lxcpath (give --lxcpath DIR): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// runtimeLog is the log of the run when one started (stderr and its log
// file), else stderr at --log-level.
func (g *globals) runtimeLog() hclog.Logger {
	if g.output.report != nil {
		return g.output.report.Logger
	}
	return g.logger()
}

// runtime is the runtime --runtime names ("auto" when not given), for the
// commands that load no pipeline (ct …).
func (g *globals) runtime(h *vz.Host) (runtime.Runtime, error) {
	setting := g.runtimeName
	if setting == "" {
		setting = runtime.NameAuto
	}
	rt, _, err := g.runtimeSelector(h).New(setting)
	return rt, err
}

// addSkipLockFlag adds --skiplock to ct start and stop, as vzctl has it:
// for a caller that holds the container's lock itself.
func addSkipLockFlag(cmd *cobra.Command, skip *bool) {
	cmd.Flags().BoolVar(skip, "skiplock", false, "do not take the container's lock: the caller holds it (as vzctl --skiplock)")
}

// lockStatus is the lock status a ct command takes, "" (no lock) with --skiplock.
func lockStatus(status string, skipLock bool) string {
	if skipLock {
		return ""
	}
	return status
}

func lxcPathOf(h *vz.Host) string {
	if h.LXC == nil {
		return ""
	}
	return h.LXC.Path
}
