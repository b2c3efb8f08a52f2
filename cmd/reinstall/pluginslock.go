package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newPluginsLockCommand(g *globals) *cobra.Command {
	var printOnly bool
	cmd := &cobra.Command{
		Use:   "lock [FILE]",
		Short: "Pin the external plugins a pipeline uses: write their SHA-256 into its required_plugins block",
		Long: `lock resolves every external plugin the pipeline FILE (default:
/etc/vz/reinstall.hcl under --root) uses or already pins, exactly as a run
would ($REINSTALL_PLUGIN_DIR, then the plugin directories, with the same
ownership checks), hashes each file and rewrites the file's required_plugins
block with those SHA-256 sums (the block is added first if the file has
none; everything else is kept). --print writes nothing and prints the block.
A plugin that is not installed, or whose file is refused, fails the command
(exit 2) and the file is left as it is.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.host()
			if err != nil {
				return err
			}
			file := h.Path(engine.SitePipeline)
			if len(args) == 1 {
				file = args[0]
			}
			return lockPlugins(g, h, file, printOnly)
		},
	}
	cmd.Flags().BoolVar(&printOnly, "print", false, "print the required_plugins block instead of writing it into the file")
	return cmd
}

// lockPlugins pins the external plugins of the pipeline file.
func lockPlugins(g *globals, h *vz.Host, file string, printOnly bool) error {
	refused := func(err error) error { return &exitError{code: engine.ExitRefused, err: err} }
	st, err := os.Stat(file)
	if err != nil {
		return refused(fmt.Errorf("plugins lock: %w", err))
	}
	src, err := vz.ReadConfigFile(file)
	if err != nil {
		return refused(fmt.Errorf("plugins lock: %w", err))
	}
	p, diags := pipeline.Load(file, src)
	if diags.HasErrors() {
		printDiagnostics(g.stderr, &engine.Error{Diags: diags, Sources: map[string][]byte{file: src}})
		return refused(fmt.Errorf("plugins lock: %s is not a valid pipeline; it is left as it is", file))
	}
	pins, err := engine.LockPlugins(h, p)
	if err != nil {
		return refused(fmt.Errorf("plugins lock: %w", err))
	}
	if printOnly {
		_, err := g.stdout.Write(engine.RequiredPluginsBlock(pins))
		return err
	}
	out, diags := engine.WriteRequiredPlugins(file, src, pins)
	if diags.HasErrors() {
		printDiagnostics(g.stderr, &engine.Error{Diags: diags, Sources: map[string][]byte{file: src}})
		return refused(fmt.Errorf("plugins lock: %s could not be rewritten; it is left as it is", file))
	}
	target, err := filepath.EvalSymlinks(file) // rewrite a symlinked file, not the link
	if err != nil {
		return refused(fmt.Errorf("plugins lock: %w", err))
	}
	if err := vz.WriteFileAtomic(target, out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("plugins lock: %w", err)
	}
	for _, pin := range pins {
		fmt.Fprintf(g.stdout, "%s: pinned %s = %s (%s)\n", file, pin.Name, pin.SHA256, pin.Path)
	}
	if len(pins) == 0 {
		fmt.Fprintf(g.stdout, "%s: uses no external plugin; nothing to pin\n", file)
	}
	return nil
}
