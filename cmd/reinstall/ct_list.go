package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

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
		if row, ok := containerRow(ctx, h, rt, ctid); ok {
			rows = append(rows, row)
		}
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
		if row, ok := containerRow(ctx, h, rt, ctid); ok {
			row.CTID = 0 // an LXC container goes by its name
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// containerRow is container ctid's row, ok false when its config does not
// load; a state the runtime cannot tell is "unknown".
func containerRow(ctx context.Context, h *vz.Host, rt runtime.Runtime, ctid int) (ctRow, bool) {
	ct, err := h.LoadContainer(ctid)
	if err != nil {
		return ctRow{}, false
	}
	st, err := rt.Status(ctx, ctid)
	if err != nil {
		st = "unknown"
	}
	return ctRow{CTID: ctid, Name: ct.Name, State: string(st), Hostname: ct.Hostname, OSTemplate: ct.OSTemplate, Private: ct.Private}, true
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
