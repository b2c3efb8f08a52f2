package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newCTCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ct",
		Short: "Create, start, stop and enter containers (through the runtime --runtime selects)",
		Args:  cobra.ArbitraryArgs,
		RunE:  unknownCTCommand,
	}
	cmd.AddCommand(newCTCreateCommand(g), newCTStartCommand(g), newCTStopCommand(g),
		newCTStatusCommand(g), newCTExecCommand(g), newCTEnterCommand(g), newCTListCommand(g),
		newCTDestroyCommand(g))
	return cmd
}

// ctTarget resolves a CTID or name, loads its config and takes its lock.
type ctTarget struct {
	host *vz.Host
	ct   *vz.Container
	lock *vz.Lock
	rt   runtime.Runtime
	// releaseRuntimeLock drops the container manager's own lock (LXC's).
	releaseRuntimeLock func()
}

func openCT(g *globals, arg, status string) (*ctTarget, error) {
	h, err := g.host()
	if err != nil {
		return nil, err
	}
	ctid, _, err := h.Resolve(arg)
	if err != nil {
		return nil, err
	}
	ct, err := h.LoadContainer(ctid)
	if err != nil {
		return nil, err
	}
	rt, err := g.runtime(h)
	if err != nil {
		return nil, err
	}
	t := &ctTarget{host: h, ct: ct, rt: rt}
	if status != "" {
		if t.lock, err = h.Lock(ctid, status); err != nil {
			var le *vz.LockedError
			if errors.As(err, &le) {
				return nil, &exitError{code: engine.ExitLocked, err: err}
			}
			return nil, err
		}
		if l, ok := rt.(runtime.Locker); ok {
			if t.releaseRuntimeLock, err = l.LockContainer(context.Background(), ctid); err != nil {
				t.close()
				return nil, err
			}
		}
	}
	return t, nil
}

// refuseUnfinished refuses (exit 3) a command on a container whose last
// reinstall did not finish: only `reinstall recover` may act on it.
func (t *ctTarget) refuseUnfinished(command string) error {
	return engine.RefuseUnfinished(t.host, t.ct.ID, t.lock != nil, command)
}

func (t *ctTarget) close() {
	if t.releaseRuntimeLock != nil {
		t.releaseRuntimeLock()
	}
	if t.lock != nil {
		t.lock.Release()
	}
}

func (t *ctTarget) spec() runtime.Spec {
	return runtime.Spec{CTID: t.ct.ID, Private: t.ct.Private, Root: t.ct.Root, Hostname: t.ct.Hostname, Init: t.ct.Init}
}

func newCTStartCommand(g *globals) *cobra.Command {
	var skipLock bool
	cmd := &cobra.Command{
		Use:   "start CTID|NAME",
		Short: "Start a container; it keeps running after this command exits",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openCT(g, args[0], lockStatus("starting", skipLock))
			if err != nil {
				return err
			}
			defer t.close()
			if err := t.refuseUnfinished("ct start"); err != nil {
				return err
			}
			if err := errors.Join(t.host.CheckIsolation(t.ct), safefs.CheckPrivateArea(t.ct.Private)); err != nil {
				return err
			}
			return t.rt.Start(cmd.Context(), t.spec())
		},
	}
	addSkipLockFlag(cmd, &skipLock)
	return cmd
}

func newCTStopCommand(g *globals) *cobra.Command {
	var skipLock bool
	cmd := &cobra.Command{
		Use:   "stop CTID|NAME",
		Short: "Stop a container the way its init expects, SIGKILL after --stop-timeout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openCT(g, args[0], lockStatus("stopping", skipLock))
			if err != nil {
				return err
			}
			defer t.close()
			if err := t.refuseUnfinished("ct stop"); err != nil {
				return err
			}
			ctx := runtime.WithStopNote(cmd.Context(), func(level, msg string) {
				if level == "warn" {
					fmt.Fprintln(g.stderr, "reinstall: warning: "+msg)
				}
			})
			return t.rt.Stop(ctx, t.ct.ID, g.stopTimeout)
		},
	}
	addSkipLockFlag(cmd, &skipLock)
	return cmd
}

func newCTStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status CTID|NAME",
		Short: "Print running or stopped",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openCT(g, args[0], "")
			if err != nil {
				return err
			}
			st, err := t.rt.Status(cmd.Context(), t.ct.ID)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, st)
			return nil
		},
	}
}

func newCTExecCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exec CTID|NAME -- CMD [ARG...] | exec CTID -",
		Short: "Run a command inside a running container (\"-\": a script from stdin)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openCT(g, args[0], "")
			if err != nil {
				return err
			}
			if err := t.refuseUnfinished("ct exec"); err != nil {
				return err
			}
			argv := args[1:]
			var stdin = cmd.InOrStdin()
			if len(argv) == 1 && argv[0] == "-" {
				argv = []string{"/bin/sh", "-s"}
			}
			env := []string{"HOME=/", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh", "TERM=" + termOrDumb()}
			code, err := t.rt.Exec(cmd.Context(), t.ct.ID, runtime.ExecRequest{Argv: argv, Env: env, Stdin: stdin, Stdout: g.stdout, Stderr: g.stderr})
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code} // passed through silently, as the command's own
			}
			return nil
		},
	}
}

func termOrDumb() string {
	if t := os.Getenv("TERM"); t != "" {
		return t
	}
	return "dumb"
}
