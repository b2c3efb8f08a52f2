package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/pipeline"
)

func newRecoverCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "recover CTID|NAME",
		Short: "Finish an interrupted reinstall: roll back, or roll forward past the point of no return",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			outcome, err := pipeline.Recover(cmd.Context(), pipeline.Options{
				Host:      h,
				Target:    args[0],
				Runtime:   g.runtime(h),
				StopGrace: g.stopTimeout,
				Logger:    g.logger(),
				Events:    textEvents(g.stderr),
				SelfExe:   "/proc/self/exe",
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "container %s: %s\n", args[0], outcome)
			return nil
		},
	}
}
