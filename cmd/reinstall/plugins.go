package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newPluginsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "Inspect the stage plugins: the built-ins and those found in the plugin directories",
	}
	cmd.AddCommand(newPluginsListCommand(g), newPluginsLockCommand(g))
	return cmd
}

func newPluginsListCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in and discovered plugins with version, stage kinds, path and SHA-256",
		Long: `List the built-in plugins, then every reinstall-plugin-<name> file found in
$REINSTALL_PLUGIN_DIR, /etc/vz/reinstall/plugins and /usr/libexec/reinstall/plugins
(the last two under --root), in that order. Each usable plugin is started to
ask its version and stage kinds. STATUS says why a file is not used: shadowed
by a built-in or an earlier file, or refused because someone other than root
could change it. Put a plugin's SHA256 in the pipeline's required_plugins
block to pin it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			rows := engine.ListPlugins(cmd.Context(), engine.Options{Host: h, Logger: g.logger(), SelfExe: "/proc/self/exe"})
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tKINDS\tPATH\tSHA256\tSTATUS")
			for _, r := range rows {
				path := r.Path
				if r.Builtin {
					path = "built-in"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, dash(r.Version), dash(strings.Join(r.Kinds, ",")), path, dash(r.SHA256), r.Status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
