package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
)

// globals are the flags every command shares.
type globals struct {
	root        string
	logLevel    string
	stopTimeout time.Duration
	stdout      io.Writer
	stderr      io.Writer
}

func (g *globals) host() (*vz.Host, error) { return vz.OpenHost(g.root) }

func (g *globals) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "reinstall", Level: hclog.LevelFromString(g.logLevel), Output: g.stderr})
}

func (g *globals) runtime(h *vz.Host) runtime.Runtime {
	return runtime.NewNative(h.Path("/run/reinstall/ct"), "/proc/self/exe")
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
	g := &globals{stdout: os.Stdout, stderr: os.Stderr}
	cmd := newRootCommand(g)
	cmd.SetArgs(args)
	cmd.SetOut(g.stdout)
	cmd.SetErr(g.stderr)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	var pe *pipeline.Error
	var ee *exitError
	switch {
	case errors.As(err, &pe):
		printDiagnostics(g.stderr, pe)
		fmt.Fprintf(g.stderr, "reinstall: %s: %v\n", pe.Stage, pe.Err)
		return pe.Code
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(g.stderr, "reinstall: %v\n", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintf(g.stderr, "reinstall: %v\n", err)
		return pipeline.ExitRefused
	}
}

func newRootCommand(g *globals) *cobra.Command {
	var o struct {
		skipBackup bool
		stop       bool
		pipeline   string
		vars       varFlags
	}
	cmd := &cobra.Command{
		Use:   "reinstall [flags] CTID|NAME",
		Short: "Reinstall a container on a fresh OS template, keeping its old files at /old",
		Long: `reinstall puts a broken container back on a fresh copy of its OS template.
The old private area is kept inside the new container at /old (or deleted
with --skipbackup). Custom scripts /etc/vz/conf/vps.reinstall and
vps.configure follow the Virtuozzo contract. Use "reinstall -- NAME" for a
container whose name is also a command.`,
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			vars, err := o.vars.values()
			if err != nil {
				return err
			}
			h, err := g.host()
			if err != nil {
				return &pipeline.Error{Code: pipeline.ExitRefused, Stage: pipeline.StagePreflight, Err: err}
			}
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			return pipeline.Reinstall(ctx, pipeline.Options{
				Host:         h,
				Target:       args[0],
				SkipBackup:   o.skipBackup,
				Stop:         o.stop,
				PipelineFile: o.pipeline,
				Vars:         vars,
				VarFiles:     o.vars.files,
				Runtime:      g.runtime(h),
				StopGrace:    g.stopTimeout,
				Logger:       g.logger(),
				Events:       textEvents(g.stderr),
				SelfExe:      "/proc/self/exe",
			})
		},
	}
	cmd.SetContext(context.Background())
	f := cmd.PersistentFlags()
	f.StringVar(&g.root, "root", "/", "resolve every host path under `DIR` (a demo or test host)")
	f.StringVar(&g.logLevel, "log-level", "warn", "log level: trace, debug, info, warn, error")
	f.DurationVar(&g.stopTimeout, "stop-timeout", 30*time.Second, "grace period between SIGTERM and SIGKILL when stopping a container")
	cmd.Flags().BoolVar(&o.skipBackup, "skipbackup", false, "delete the old private area instead of keeping it at /old")
	cmd.Flags().BoolVar(&o.stop, "stop", false, "stop a running container right before the swap")
	cmd.Flags().StringVar(&o.pipeline, "pipeline", "", "run the pipeline in `FILE` instead of /etc/vz/reinstall.hcl or the embedded default")
	o.vars.register(cmd.Flags())
	cmd.AddCommand(newValidateCommand(g), newPlanCommand(g), newFmtCommand(g))
	cmd.AddCommand(newCTCommand(g), newRecoverCommand(g), newStatusCommand(g), newPluginsCommand(g), newVersionCommand(g))
	return cmd
}
