package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newStatusCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status CTID|NAME",
		Short: "Show an unfinished reinstall and what `reinstall recover` would do",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			p, err := engine.Status(engine.Options{Host: h, Target: args[0]})
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(struct {
					Unfinished *engine.Pending `json:"unfinished"`
				}{p})
			}
			if p == nil {
				fmt.Fprintf(g.stdout, "container %s: no unfinished reinstall\n", args[0])
				return nil
			}
			ct := p.CT
			if ct == "" {
				ct = strconv.Itoa(p.CTID)
			}
			fmt.Fprintf(g.stdout, "container %s: unfinished reinstall (run %s, pid %d)\n", ct, p.RunID, p.PID)
			fmt.Fprintf(g.stdout, "  journal: %s\n  stages: %s\n  point of no return passed: %v\n",
				p.Journal, strings.Join(p.Stages, ", "), p.Committed)
			if p.Runtime != "" {
				fmt.Fprintf(g.stdout, "  runtime: %s\n", p.Runtime)
			}
			fmt.Fprintf(g.stdout, "  recover would: %s\n", p.Recovery)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
