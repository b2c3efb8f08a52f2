package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// containerArgCommands are the commands whose first argument is a CTID or
// a container name, by their path below the root command.
var containerArgCommands = [][]string{
	{}, // reinstall CTID
	{"plan"},
	{"recover"},
	{"status"},
	{"ct", "start"},
	{"ct", "stop"},
	{"ct", "status"},
	{"ct", "exec"},
}

// enableCompletion sets up shell completion: cobra's `completion` command
// (bash, zsh, fish, powershell), the containers of --root for the commands
// that take one, and the values of --ostemplate, --pipeline, --log-level and
// --runtime.
func enableCompletion(root *cobra.Command, g *globals) {
	root.CompletionOptions.DisableDefaultCmd = false
	for _, path := range containerArgCommands {
		cmd, _, err := root.Find(path)
		if err != nil || (len(path) > 0 && cmd == root) {
			continue
		}
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeContainers(g.root, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	walk(root, func(cmd *cobra.Command) {
		if cmd.Flags().Lookup("ostemplate") != nil {
			cmd.RegisterFlagCompletionFunc("ostemplate", func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return completeTemplates(g.root, toComplete), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if cmd.Flags().Lookup("pipeline") != nil {
			cmd.MarkFlagFilename("pipeline", "hcl")
		}
	})
	root.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions(
		[]cobra.Completion{"trace", "debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	if root.PersistentFlags().Lookup("runtime") != nil {
		root.RegisterFlagCompletionFunc("runtime", cobra.FixedCompletions(
			[]cobra.Completion{"auto", "native", "vzctl", "prlctl", "lxc"}, cobra.ShellCompDirectiveNoFileComp))
	}
}

func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// completeContainers lists the CTIDs of <root>/etc/vz/conf/<CTID>.conf
// (described by their NAME or HOSTNAME) and the names of <root>/etc/vz/names
// (described by their CTID) that start with prefix. It reads the files only,
// never taking a lock or following a name's symlink.
func completeContainers(root, prefix string) []cobra.Completion {
	if root == "" {
		root = "/"
	}
	var out []cobra.Completion
	confs, _ := filepath.Glob(filepath.Join(root, "etc/vz/conf", "*.conf"))
	for _, p := range confs {
		id := strings.TrimSuffix(filepath.Base(p), ".conf")
		if _, err := vz.ParseCTID(id); err != nil || !strings.HasPrefix(id, prefix) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(id, describeConfig(p)))
	}
	entries, _ := os.ReadDir(filepath.Join(root, "etc/vz/names"))
	for _, e := range entries {
		name := e.Name()
		if vz.ValidateName(name) != nil || !strings.HasPrefix(name, prefix) {
			continue
		}
		target, err := os.Readlink(filepath.Join(root, "etc/vz/names", name))
		if err != nil {
			continue
		}
		id := strings.TrimSuffix(filepath.Base(target), ".conf")
		if _, err := strconv.Atoi(id); err != nil {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(name, "container "+id))
	}
	return out
}

// describeConfig is a container's NAME, else its HOSTNAME, else "". The
// config is read only if it is a regular file (no link, no fifo to hang a
// Tab on), and only its first 64 KiB.
func describeConfig(path string) string {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return ""
	}
	cfg, err := vz.ParseConfig(data)
	if err != nil {
		return ""
	}
	for _, key := range []string{"NAME", "HOSTNAME"} {
		if v, ok := cfg.Get(key); ok && v != "" && termsafe.Printable(v) == v && !strings.ContainsAny(v, "\t") {
			return v
		}
	}
	return ""
}

// completeTemplates lists the OS templates of $TEMPLATE/cache under root
// (vz.conf's TEMPLATE) that start with prefix.
func completeTemplates(root, prefix string) []cobra.Completion {
	h, err := vz.OpenHost(root)
	if err != nil {
		return nil
	}
	files, _ := os.ReadDir(filepath.Join(h.TemplateDir, "cache"))
	var out []cobra.Completion
	for _, f := range files {
		for _, suffix := range vz.TemplateSuffixes {
			name, ok := strings.CutSuffix(f.Name(), suffix)
			if ok && vz.CheckTemplateName(name) == nil && strings.HasPrefix(name, prefix) && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}
