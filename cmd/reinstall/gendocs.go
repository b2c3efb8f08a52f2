package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/reinstall-dev/reinstall/internal/version"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// newGenDocsCommand is the hidden `reinstall __gendocs man DIR`: one man
// page per command, generated from the command definitions (`make man`).
// SOURCE_DATE_EPOCH, when set, dates the pages for a reproducible build.
func newGenDocsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "__gendocs man DIR",
		Short:  "Write the man pages to DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "man" {
				return &exitError{code: engine.ExitRefused, err: fmt.Errorf("__gendocs: unknown format %q; the only one is man", args[0])}
			}
			dir := args[1]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("__gendocs: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{
				Title:   "REINSTALL",
				Section: "1",
				Source:  "reinstall " + version.Version,
				Manual:  "reinstall manual",
			}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("__gendocs: %w", err)
			}
			return nil
		},
	}
}
