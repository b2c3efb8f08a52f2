package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the plugin protocol version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(g.stdout, "reinstall %s (plugin protocol %d)\n", version.Version, sdk.ProtocolVersion)
			return nil
		},
	}
}
