package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// unknownCTCommand makes `ct` without a known subcommand a usage error
// (exit 2), as an unknown flag is, instead of cobra's help and exit 0.
func unknownCTCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		cmd.Help()
		return &exitError{code: engine.ExitRefused, err: errors.New("ct: a command is required")}
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return &exitError{code: engine.ExitRefused, err: fmt.Errorf("ct: unknown command %q: use one of %s", args[0], strings.Join(names, ", "))}
}

// enterShell starts root's login shell inside the container: bash where
// the container has it, else sh.
var enterShell = []string{"/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash -l; else exec /bin/sh -l; fi"}

func newCTEnterCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "enter CTID|NAME",
		Short: "Open an interactive root shell inside a running container (on this terminal)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdin, ok := cmd.InOrStdin().(*os.File)
			if !ok || !isTTY(stdin) {
				return &exitError{code: engine.ExitRefused, err: fmt.Errorf("ct enter needs a terminal on stdin; to run a command, use ct exec %s -- CMD", args[0])}
			}
			t, err := openCT(g, args[0], "")
			if err != nil {
				return err
			}
			if err := t.refuseUnfinished("ct enter"); err != nil {
				return err
			}
			env := []string{"HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh", "TERM=" + termOrDumb()}
			code, err := t.rt.Exec(cmd.Context(), t.ct.ID, runtime.ExecRequest{Argv: enterShell, Env: env, Stdin: stdin, Stdout: g.stdout, Stderr: g.stderr})
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code} // the shell's own exit status
			}
			return nil
		},
	}
}

// isTTY tells whether f is a terminal (any, sized or not).
func isTTY(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func newCTDestroyCommand(g *globals) *cobra.Command {
	var skipLock bool
	cmd := &cobra.Command{
		Use:   "destroy CTID|NAME",
		Short: "Delete a stopped container: its private area, its root directory, its name; its config is kept as <CTID>.conf.destroyed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := openCT(g, args[0], lockStatus("destroying", skipLock))
			if err != nil {
				return err
			}
			defer t.close()
			if t.host.LXC != nil {
				return &exitError{code: engine.ExitRefused, err: fmt.Errorf("ct destroy: %s is an LXC container: use lxc-destroy", args[0])}
			}
			if err := t.refuseUnfinished("ct destroy"); err != nil {
				return err
			}
			st, err := t.rt.Status(cmd.Context(), t.ct.ID)
			if err != nil {
				return err
			}
			if st != runtime.Stopped {
				return &exitError{code: engine.ExitRunning, err: fmt.Errorf("container %d is %s: stop it first (reinstall ct stop %d)", t.ct.ID, st, t.ct.ID)}
			}
			return destroyContainer(g, t)
		},
	}
	addSkipLockFlag(cmd, &skipLock)
	return cmd
}

// destroyContainer removes the private area (renamed aside first, so a
// crash never leaves half an area at VE_PRIVATE; never following a symlink
// or entering a mount), the empty root directory and the name link, and
// renames the config to <CTID>.conf.destroyed, as vzctl destroy does.
func destroyContainer(g *globals, t *ctTarget) error {
	ct := t.ct
	if err := safefs.MoveToTrash(ct.Private, ct.Private+".destroyed"); err != nil {
		return fmt.Errorf("destroy %d: %w", ct.ID, err)
	}
	if err := os.Remove(ct.Root); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(g.stderr, "reinstall: warning: %s is left: %v\n", ct.Root, err)
	}
	if ct.Name != "" {
		link := t.host.Path("/etc/vz/names/" + ct.Name)
		if target, err := os.Readlink(link); err == nil && filepath.Base(target) == filepath.Base(ct.ConfigPath) {
			os.Remove(link)
		}
	}
	if err := os.Rename(ct.ConfigPath, ct.ConfigPath+".destroyed"); err != nil {
		return fmt.Errorf("destroy %d: %w", ct.ID, err)
	}
	fmt.Fprintf(g.stdout, "container %d destroyed\n", ct.ID)
	return nil
}
