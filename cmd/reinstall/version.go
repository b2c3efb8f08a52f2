package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// versionInfo is `reinstall version --json`.
type versionInfo struct {
	Version        string `json:"version"`
	PluginProtocol int    `json:"plugin_protocol"`
}

func newVersionCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and the plugin protocol version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return json.NewEncoder(g.stdout).Encode(versionInfo{Version: version.Version, PluginProtocol: sdk.ProtocolVersion})
			}
			fmt.Fprintf(g.stdout, "reinstall %s (plugin protocol %d)\n", version.Version, sdk.ProtocolVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"version\": …, \"plugin_protocol\": …} as JSON")
	return cmd
}
