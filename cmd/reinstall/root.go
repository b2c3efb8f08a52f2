package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/redact"
	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// globals are the flags every command shares.
type globals struct {
	root        string
	logLevel    string
	stopTimeout time.Duration
	runtimeName string // --runtime; "" = the pipeline's runtime setting, else auto
	lxcPath     string // --lxcpath; "" = lxc-config lxc.lxcpath (with --runtime lxc)
	stdout      io.Writer
	stderr      io.Writer
	output      runOutput // --json, --quiet and the report of a run
	toolWarning sync.Once // the warning vzctl or prlctl under --root draws (runtime.go)
	// secrets are the secret values a run met: stdout, stderr and the log
	// file pass through them.
	secrets *redact.Secrets
}

// host opens --root's layout; with --runtime lxc its containers are those
// of the lxcpath.
func (g *globals) host() (*vz.Host, error) {
	h, err := vz.OpenHost(g.root)
	if err != nil || g.runtimeName != runtime.NameLXC {
		return h, err
	}
	dir := g.lxcPath
	if dir == "" {
		if dir, err = defaultLXCPath(); err != nil {
			return nil, err
		}
	}
	if err := h.UseLXC(dir); err != nil {
		return nil, err
	}
	return h, nil
}

func (g *globals) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "reinstall", Level: hclog.LevelFromString(g.logLevel), Output: g.stderr})
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func execute(args []string) int {
	// A closed stdout or stderr pipe (`reinstall 101 | head`) must not kill
	// a run halfway: writes fail instead, and the run goes on.
	signal.Ignore(syscall.SIGPIPE)
	secrets := &redact.Secrets{}
	g := &globals{stdout: secrets.Writer(os.Stdout), stderr: secrets.Writer(os.Stderr), secrets: secrets}
	cmd := newRootCommand(g)
	cmd.SetArgs(args)
	cmd.SetOut(g.stdout)
	cmd.SetErr(g.stderr)
	err := cmd.Execute()
	code, line := exitOf(err)
	logSuffix := g.output.finish(g, cmd, args, err, code, line)
	var pe *engine.Error
	if errors.As(err, &pe) {
		printDiagnostics(g.stderr, pe)
	}
	if line != "" {
		fmt.Fprintln(g.stderr, line+logSuffix)
	}
	return code
}

func newRootCommand(g *globals) *cobra.Command {
	var o struct {
		skipBackup bool
		stop       bool
		ostemplate string
		pipeline   string
		vars       varFlags
		hooks      scriptFlags
		parallel   int
		maxRuns    int
		noHealth   bool
	}
	cmd := &cobra.Command{
		Use:   "reinstall [flags] CTID|NAME...",
		Short: "Reinstall a container on a fresh OS template, keeping its old files at /old",
		Long: `reinstall puts a broken container back on a fresh copy of its OS template.
The old private area is kept inside the new container at /old (or deleted
with --skipbackup). Custom scripts /etc/vz/conf/vps.reinstall and
vps.configure follow the Virtuozzo contract. Use "reinstall -- NAME" for a
container whose name is also a command. Several containers are reinstalled
each in a run of its own, --parallel at once.`,
		Args:          cobra.MinimumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.output.checkFormat(); err != nil {
				return err
			}
			if len(args) > 1 {
				if o.hooks.list {
					return fmt.Errorf("--listscripts takes one container")
				}
				ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer cancel()
				return reinstallMany(ctx, g, cmd, args, o.parallel)
			}
			g.output.target = args[0]
			vars, err := o.vars.values()
			if err != nil {
				return err
			}
			h, err := g.host()
			if err != nil {
				return &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonConfigInvalid, Err: err}
			}
			if o.hooks.list {
				return o.hooks.listHooks(g.stdout, g.stderr, h, args[0])
			}
			if err := knownTarget(h, args[0], engine.StagePreflight); err != nil {
				return err
			}
			hooks, err := o.hooks.options(h, args[0])
			if err != nil {
				return err
			}
			if replayed, err := g.output.beginRequest(g, h, args[0]); err != nil || replayed {
				if err == nil && g.output.done.RC != 0 {
					err = &exitError{code: g.output.done.RC}
				}
				return err
			}
			report := g.output.start(g, "reinstall")
			report.openLog(h, args[0], stateOf(g, h))
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			limit, err := hostLimit(h, o.maxRuns)
			if err != nil {
				return err
			}
			slot, err := takeSlot(ctx, h, report, limit)
			if err != nil {
				return err
			}
			defer slot.Release()
			ro := g.runOptions(h, args[0], report)
			ro.SkipBackup, ro.Stop, ro.OSTemplate = o.skipBackup, o.stop, o.ostemplate
			ro.ResetPwDB, ro.SkipScripts, ro.Scripts = hooks.ResetPwDB, hooks.SkipScripts, hooks.Scripts
			ro.PipelineFile, ro.Vars, ro.VarFiles = o.pipeline, vars, o.vars.files
			ro.NoHealth = o.noHealth
			return engine.Reinstall(ctx, ro)
		},
	}
	cmd.SetContext(context.Background())
	f := cmd.PersistentFlags()
	f.StringVar(&g.root, "root", "/", "resolve every host path under `DIR` (a demo or test host)")
	f.StringVar(&g.logLevel, "log-level", "warn", "log level: trace, debug, info, warn, error")
	f.DurationVar(&g.stopTimeout, "stop-timeout", 30*time.Second, "grace period between SIGTERM and SIGKILL when stopping a container")
	f.StringVar(&g.runtimeName, "runtime", "", "container runtime: auto, native, vzctl, prlctl or lxc (default: the pipeline's runtime setting, else auto)")
	f.StringVar(&g.lxcPath, "lxcpath", "", "with --runtime lxc: the LXC containers' `DIR` (default: lxc-config lxc.lxcpath)")
	cmd.Flags().BoolVar(&o.skipBackup, "skipbackup", false, "delete the old private area instead of keeping it at /old")
	addNoBackupFlag(cmd.Flags(), &o.skipBackup)
	addOSTemplateFlag(cmd.Flags(), &o.ostemplate)
	cmd.Flags().BoolVar(&o.stop, "stop", false, "stop a running container right before the swap")
	cmd.Flags().BoolVar(&o.noHealth, "no-health", false, "skip the health stage (opts.nohealth): keep the new container whether or not it comes up healthy")
	cmd.Flags().StringVar(&o.pipeline, "pipeline", "", "run the pipeline in `FILE` instead of /etc/vz/reinstall.hcl or the embedded default")
	cmd.Flags().IntVar(&o.parallel, "parallel", 1, "with several containers: how many to reinstall at once")
	cmd.Flags().IntVar(&o.maxRuns, "max-concurrent", -1, "how many reinstalls this host runs at once, across processes (default: "+maxConcurrentKey+" in vz.conf, else no limit; 0: no limit)")
	o.vars.register(cmd.Flags())
	g.output.register(cmd.Flags())
	g.output.registerRequest(cmd.Flags())
	o.hooks.register(cmd.Flags())
	cmd.AddCommand(newValidateCommand(g), newPlanCommand(g), newFmtCommand(g))
	cmd.AddCommand(newCTCommand(g), newRecoverCommand(g), newStatusCommand(g), newPluginsCommand(g), newVersionCommand(g))
	cmd.AddCommand(newGenDocsCommand())
	enableCompletion(cmd, g)
	return cmd
}

// knownTarget refuses (exit 2) a target that names no container of the
// host before a run writes anything: no log, no request record, no lock
// directory. An unknown container leaves the host as it was.
func knownTarget(h *vz.Host, target, stage string) error {
	ctid, _, err := h.Resolve(target)
	if err == nil {
		err = h.CheckKnown(ctid)
	}
	if err != nil {
		return &engine.Error{Code: engine.ExitRefused, Stage: stage, Err: err}
	}
	return nil
}

// runOptions are the options a reinstall and a recover share: the host,
// the container, the runtime, the stop grace and where the run reports.
func (g *globals) runOptions(h *vz.Host, target string, report *runReport) engine.Options {
	return engine.Options{
		Host:        h,
		Target:      target,
		RuntimeName: g.runtimeName,
		NewRuntime:  g.runtimeSelector(h).New,
		StopGrace:   g.stopTimeout,
		Logger:      report.Logger,
		LogFile:     report.LogFile,
		Events:      report.Event,
		SelfExe:     "/proc/self/exe",
		Secrets:     g.secrets,
	}
}
