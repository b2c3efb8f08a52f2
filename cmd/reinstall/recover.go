package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newRecoverCommand(g *globals) *cobra.Command {
	var skipRollback []string
	cmd := &cobra.Command{
		Use:   "recover CTID|NAME",
		Short: "Finish an interrupted reinstall: roll back, or roll forward past the point of no return",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.output.checkFormat(); err != nil {
				return err
			}
			g.output.target = args[0]
			h, err := g.host()
			if err != nil {
				return &engine.Error{Code: engine.ExitRefused, Stage: "recover", Reason: engine.ReasonConfigInvalid, Err: err}
			}
			if err := knownTarget(h, args[0], "recover"); err != nil {
				return err
			}
			report := g.output.start(g, "recover")
			report.openLog(h, args[0], stateOf(g, h))
			report.emit(engine.Event{Type: engine.EventRunStarted})
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			o := g.runOptions(h, args[0], report)
			o.SkipRollback = skipRollback
			outcome, err := engine.Recover(ctx, o)
			if err != nil {
				return err
			}
			report.emit(engine.Event{Type: engine.EventRunFinished, Message: outcome, State: report.containerState()})
			if !g.output.json && !g.output.wantsResult() {
				fmt.Fprintf(g.stdout, "container %s: %s\n", args[0], outcome)
			}
			return nil
		},
	}
	g.output.register(cmd.Flags())
	cmd.Flags().StringArrayVar(&skipRollback, "skip-rollback", nil,
		"do not roll back `STAGE` (repeatable): what it did stays in place; journaled and logged")
	return cmd
}
