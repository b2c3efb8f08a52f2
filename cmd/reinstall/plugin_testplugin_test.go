package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// The test binary doubles as an external plugin, "crashy", which tests
// install as a wrapper script (root-owned, 0755) that executes it with
// envTestPlugin set: how it serves (normally, or writing to stdout first,
// or speaking protocol 2 only). envTestTag marks the plugin and whatever it
// starts, so tests can tell whether any of it survives the run.
const (
	envTestPlugin = "REINSTALL_TEST_PLUGIN"
	envTestTag    = "REINSTALL_TEST_TAG"
)

// init serves the plugin before the testing package starts (it must write
// nothing to stdout before the handshake).
func init() {
	if how := os.Getenv(envTestPlugin); how != "" {
		serveCrashy(how)
		os.Exit(0)
	}
}

func serveCrashy(how string) {
	p := &sdk.Plugin{
		Name:    "crashy",
		Version: "0.0.1",
		Stages:  map[string]sdk.Stage{sdk.KindConfigure: crashyStage{}, sdk.KindReinstallHook: crashyStage{}},
		// A default the host applies where the pipeline sets no timeout.
		DefaultTimeouts: map[string]time.Duration{sdk.KindReinstallHook: 3 * time.Second},
	}
	switch how {
	case "set":
		serveAcmeSet()
	case "stdout":
		fmt.Println("hello from crashy")
		sdk.Serve(p)
	case "v2":
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig:  sdk.Handshake,
			VersionedPlugins: map[int]goplugin.PluginSet{2: sdk.PluginSet(p)},
			GRPCServer:       goplugin.DefaultGRPCServer,
		})
	default:
		sdk.Serve(p)
	}
}

// crashyStage misbehaves mid-stage as its mode says, after journaling a
// step and starting a grandchild (to check nothing it started survives).
type crashyStage struct{}

type crashyConfig struct {
	Mode string `hcl:"mode" description:"ok, panic, exit, sigkill, hang, snapshot, old-area, bad-rollback or bad-rollback-tmp"`
	// snapshot copies From to To and the environments of every process of
	// the run's cgroup to To.environ.
	From string `hcl:"from,optional"`
	To   string `hcl:"to,optional"`
}

func (crashyStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(crashyConfig{}) }

func (crashyStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

// Describe tells plan what the stage would do, in its own words.
func (crashyStage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	var c crashyConfig
	if err := req.Config.Decode(&c); err != nil {
		return sdk.Description{}, err
	}
	return sdk.Description{
		Creates: []string{req.Context.Private + "/crashy-was-here"},
		Actions: []string{fmt.Sprintf("crashy would %s (after %s)", c.Mode, strings.Join(req.EarlierKinds, ", "))},
	}, nil
}

func (crashyStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c crashyConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	switch c.Mode {
	case "ok":
		return &sdk.Result{}, nil
	case "attr-fail":
		return nil, sdk.ErrorAt("mode", errors.New("crashy: this mode always fails"))
	case "snapshot":
		return &sdk.Result{}, snapshot(c.From, c.To)
	case "old-area":
		return &sdk.Result{}, copyFromOldArea(ctx, req.Host)
	case "bad-rollback", "bad-rollback-tmp":
		return nil, failWithBadRollback(ctx, req, c.Mode == "bad-rollback-tmp")
	}
	if err := req.Host.Journal(ctx, "misbehave", sdk.PhaseBegin, map[string]string{"mode": c.Mode}); err != nil {
		return nil, err
	}
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		return nil, err
	}
	logEveryLevel(req)
	req.Logger.Error("about to misbehave", "mode", c.Mode)
	req.UI.Log(sdk.LevelInfo, fmt.Sprintf("crashy: %s (grandchild %d)", c.Mode, sleep.Process.Pid))
	time.Sleep(200 * time.Millisecond) // let the log lines leave
	switch c.Mode {
	case "panic":
		go func() { panic("crashy: boom") }()
	case "exit":
		os.Exit(3)
	case "sigkill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	time.Sleep(time.Hour) // hang ignores ctx; the others die meanwhile
	return nil, nil
}

// logEveryLevel logs one line at each level through the stage's logger
// and writes one to os.Stderr (which go-plugin forwards after the handshake).
func logEveryLevel(req *sdk.RunRequest) {
	req.Logger.Trace("crashy says trace")
	req.Logger.Debug("crashy says debug")
	req.Logger.Info("crashy says info")
	req.Logger.Warn("crashy says warn")
	fmt.Fprintln(os.Stderr, "crashy says raw stderr")
}

// failWithBadRollback fails the stage after journaling a step that its
// Rollback can never undo; with tmp, it first creates the temporary area
// (as a hook that fills it would), which then stays until that rollback
// succeeds or is skipped.
func failWithBadRollback(ctx context.Context, req *sdk.RunRequest, tmp bool) error {
	if err := req.Host.Journal(ctx, stepBadRollback, sdk.PhaseBegin, nil); err != nil {
		return err
	}
	if tmp {
		if err := os.Mkdir(req.Context.PrivateTmp, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(req.Context.PrivateTmp, "crashy"), []byte("left by crashy\n"), 0o644); err != nil {
			return err
		}
	}
	return errors.New("crashy: failing on purpose")
}

// stepBadRollback is the journal step whose rollback always fails.
const stepBadRollback = "bad-rollback"

// Rollback fails whenever Run journaled stepBadRollback: a vendor plugin
// whose rollback is broken.
func (crashyStage) Rollback(_ context.Context, req *sdk.RollbackRequest) error {
	for _, e := range req.Entries {
		if e.Step == stepBadRollback {
			return errors.New("crashy: this rollback always fails")
		}
	}
	return nil
}

// snapshot copies a file (the run's journal) and the environments of the
// processes in this process's cgroup (the run's plugins).
func snapshot(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		return err
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return err
	}
	var envs []string
	for _, line := range strings.Split(string(self), "\n") {
		if cg, ok := strings.CutPrefix(line, "0::"); ok {
			procs, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/unified", cg, "cgroup.procs"))
			if err != nil {
				return err
			}
			for _, pid := range strings.Fields(string(procs)) {
				env, _ := os.ReadFile("/proc/" + pid + "/environ")
				cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				envs = append(envs, fmt.Sprintf("pid %s %q:\n%s", pid, cmdline, strings.ReplaceAll(string(env), "\x00", "\n")))
			}
		}
	}
	if len(envs) < 2 {
		return fmt.Errorf("snapshot: found %d processes in the run's cgroup, want every plugin", len(envs))
	}
	return os.WriteFile(to+".environ", []byte(strings.Join(envs, "\n")), 0o600)
}
