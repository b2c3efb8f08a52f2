package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

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

func newCTCreateCommand(g *globals) *cobra.Command {
	var ostemplate, hostname, name string
	cmd := &cobra.Command{
		Use:   "create CTID --ostemplate NAME [--hostname H] [--name NAME]",
		Short: "Create a container's config and private area from an OS template",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createContainer(cmd.Context(), g, args[0], ostemplate, hostname, name)
		},
	}
	cmd.Flags().StringVar(&ostemplate, "ostemplate", "", "OS template name (a cache in $TEMPLATE/cache)")
	cmd.Flags().StringVar(&hostname, "hostname", "", "the container's hostname")
	cmd.Flags().StringVar(&name, "name", "", "a name for the container (/etc/vz/names/NAME)")
	cmd.MarkFlagRequired("ostemplate")
	return cmd
}

// createContainer writes <CTID>.conf and unpacks the template into
// <VE_PRIVATE>.create, renamed into place when complete.
func createContainer(ctx context.Context, g *globals, arg, ostemplate, hostname, name string) error {
	h, err := g.host()
	if err != nil {
		return err
	}
	ctid, err := vz.ParseCTID(arg)
	if err != nil {
		return err
	}
	if name != "" {
		if err := vz.ValidateName(name); err != nil {
			return err
		}
	}
	tmpl, err := h.FindTemplate(ostemplate)
	if errors.Is(err, vz.ErrTemplateNotFound) {
		return fmt.Errorf("%w; put the OS template's tarball there (make demo-host builds a host with a busybox one)", err)
	}
	if err != nil {
		return err
	}
	// A fresh host (a new --root) has none of vz's directories yet.
	if err := os.MkdirAll(filepath.Dir(h.ConfigPath(ctid)), 0o755); err != nil {
		return err
	}
	lock, err := h.Lock(ctid, "creating")
	if err != nil {
		return err
	}
	defer lock.Release()
	data, err := os.ReadFile(h.ConfigPath(ctid))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	conf, err := vz.ParseConfig(data)
	if err != nil {
		return fmt.Errorf("%s: %w", h.ConfigPath(ctid), err)
	}
	conf.Set("OSTEMPLATE", ostemplate)
	if hostname != "" {
		conf.Set("HOSTNAME", hostname)
	}
	if name != "" {
		conf.Set("NAME", name)
	}
	if err := vz.WriteFileAtomic(h.ConfigPath(ctid), conf.Bytes(), 0o644); err != nil {
		return err
	}
	ct, err := h.LoadContainerChecked(ctid) // contract §6: not inside another container's area
	if err != nil {
		return err
	}
	if _, err := os.Lstat(ct.Private); err == nil {
		return fmt.Errorf("container %d already has a private area at %s", ctid, ct.Private)
	}
	building := ct.Private + ".create"
	if err := os.MkdirAll(filepath.Dir(ct.Private), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(building, 0o700); err != nil {
		return fmt.Errorf("create %d: %w", ctid, err)
	}
	if _, err := safefs.Untar(ctx, tmpl, building, nil); err != nil {
		safefs.RemoveTree(building)
		return fmt.Errorf("create %d: %w", ctid, err)
	}
	if err := safefs.Rename(building, ct.Private); err != nil {
		safefs.RemoveTree(building)
		return fmt.Errorf("create %d: %w", ctid, err)
	}
	if name != "" {
		link := h.Path("/etc/vz/names/" + name)
		os.MkdirAll(filepath.Dir(link), 0o755)
		os.Remove(link)
		if err := os.Symlink(fmt.Sprintf("/etc/vz/conf/%d.conf", ctid), link); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.stdout, "container %d created from %s at %s\n", ctid, filepath.Base(tmpl), ct.Private)
	return nil
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

func newCTListCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List containers with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			rt, err := g.runtime(h)
			if err != nil {
				return err
			}
			rows, err := listContainers(cmd.Context(), h, rt)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CTID\tNAME\tSTATE\tHOSTNAME\tOSTEMPLATE\tPRIVATE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dash(ctidText(r.CTID)), dash(r.Name), r.State, dash(r.Hostname), dash(r.OSTemplate), r.Private)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type ctRow struct {
	CTID       int    `json:"ctid,omitempty"` // absent for an LXC container
	Name       string `json:"name,omitempty"`
	State      string `json:"state"`
	Hostname   string `json:"hostname,omitempty"`
	OSTemplate string `json:"ostemplate,omitempty"`
	Private    string `json:"private"`
}

func listContainers(ctx context.Context, h *vz.Host, rt runtime.Runtime) ([]ctRow, error) {
	if h.LXC != nil {
		return listLXCContainers(ctx, h, rt)
	}
	entries, err := os.ReadDir(h.Path("/etc/vz/conf"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var rows []ctRow
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".conf")
		if !ok {
			continue
		}
		ctid, err := vz.ParseCTID(id)
		if err != nil {
			continue
		}
		ct, err := h.LoadContainer(ctid)
		if err != nil {
			continue
		}
		st, err := rt.Status(ctx, ctid)
		if err != nil {
			st = "unknown"
		}
		rows = append(rows, ctRow{CTID: ctid, Name: ct.Name, State: string(st), Hostname: ct.Hostname, OSTemplate: ct.OSTemplate, Private: ct.Private})
	}
	slices.SortFunc(rows, func(a, b ctRow) int { return a.CTID - b.CTID })
	return rows, nil
}

// listLXCContainers lists the containers of the lxcpath (a directory with
// a config), by name.
func listLXCContainers(ctx context.Context, h *vz.Host, rt runtime.Runtime) ([]ctRow, error) {
	entries, err := os.ReadDir(h.LXC.Path)
	if err != nil {
		return nil, err
	}
	var rows []ctRow
	for _, e := range entries {
		ctid, _, err := h.Resolve(e.Name())
		if err != nil {
			continue
		}
		ct, err := h.LoadContainer(ctid)
		if err != nil {
			continue
		}
		st, err := rt.Status(ctx, ctid)
		if err != nil {
			st = "unknown"
		}
		rows = append(rows, ctRow{Name: ct.Name, State: string(st), Hostname: ct.Hostname, OSTemplate: ct.OSTemplate, Private: ct.Private})
	}
	return rows, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ctidText is a CTID as text, "" for none (an LXC container).
func ctidText(ctid int) string {
	if ctid == 0 {
		return ""
	}
	return strconv.Itoa(ctid)
}
