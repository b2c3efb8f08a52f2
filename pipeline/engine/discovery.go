package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
)

// Plugin discovery. An external plugin <name> is the first file named
// reinstall-plugin-<name> found in $REINSTALL_PLUGIN_DIR (taken as given),
// then <root>/etc/vz/reinstall/plugins, then <root>/usr/libexec/reinstall/plugins.
// Built-in names always win: a file named after a built-in is never run
// (`reinstall plugins list` shows it as shadowed), and a required_plugins
// pin on a built-in name is refused, since it could never take effect.
// A file someone other than root could change is refused, never skipped
// in favour of a later directory.

// PluginDirEnv names the environment variable of the first plugin directory.
const PluginDirEnv = "REINSTALL_PLUGIN_DIR"

// PluginFilePrefix starts every external plugin's file name.
const PluginFilePrefix = "reinstall-plugin-"

// PluginDirs are the plugin directories searched after $REINSTALL_PLUGIN_DIR,
// under --root.
var PluginDirs = []string{"/etc/vz/reinstall/plugins", "/usr/libexec/reinstall/plugins"}

// PluginFile is a reinstall-plugin-<name> file found in a plugin directory.
type PluginFile struct {
	Name string
	Path string
	// Problem says why the file is not run ("" if it is the plugin Name
	// resolves to): untrusted, or shadowed by a built-in or an earlier file.
	Problem string
}

// PluginDirOf is the directory searched before PluginDirs for p's
// plugins ("" for none): the one recorded for a recovery, else
// $REINSTALL_PLUGIN_DIR made absolute (the journal keeps it for recover,
// which may run from another directory).
func PluginDirOf(p *pipeline.Pipeline) string {
	if p != nil && p.PluginDirRecorded {
		return p.PluginDir
	}
	d := os.Getenv(PluginDirEnv)
	if d == "" {
		return ""
	}
	if abs, err := filepath.Abs(d); err == nil {
		return abs
	}
	return d
}

// pluginSearchDirs lists the plugin directories in search order for p's
// plugins (nil: the caller's $REINSTALL_PLUGIN_DIR, then PluginDirs).
func pluginSearchDirs(h *vz.Host, p *pipeline.Pipeline) []string {
	var dirs []string
	if d := PluginDirOf(p); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range PluginDirs {
		dirs = append(dirs, h.Path(d))
	}
	return dirs
}

// DiscoverPlugins lists every plugin file in the search directories, in
// search order, each with why it is not used, if it is not.
func DiscoverPlugins(h *vz.Host) []PluginFile { return discoverPlugins(h, nil) }

// discoverPlugins is DiscoverPlugins in p's search directories.
func discoverPlugins(h *vz.Host, p *pipeline.Pipeline) []PluginFile {
	var found []PluginFile
	winner := map[string]string{}
	for _, dir := range pluginSearchDirs(h, p) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // a missing directory holds no plugins
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), PluginFilePrefix)
			if !ok || !pipeline.PinnedPluginNameRE.MatchString(name) || e.IsDir() {
				continue
			}
			f := PluginFile{Name: name, Path: filepath.Join(dir, e.Name())}
			switch {
			case slices.Contains(pipeline.BuiltinPlugins, name):
				f.Problem = "shadowed by the built-in plugin " + name
			case winner[name] != "":
				f.Problem = "shadowed by " + winner[name]
			default:
				winner[name] = f.Path
				var ue *pluginhost.UntrustedError
				if err := pluginhost.CheckTrusted(f.Path); errors.As(err, &ue) {
					f.Problem = "refused: " + ue.Reason
				} else if err != nil {
					f.Problem = "refused: " + err.Error()
				}
			}
			found = append(found, f)
		}
	}
	return found
}

// findPluginFile returns the file a plugin name of p resolves to.
func findPluginFile(h *vz.Host, p *pipeline.Pipeline, name string) (PluginFile, error) {
	known := slices.Clone(pipeline.BuiltinPlugins)
	for _, f := range discoverPlugins(h, p) {
		known = append(known, f.Name)
		if f.Name != name || strings.HasPrefix(f.Problem, "shadowed") {
			continue
		}
		if f.Problem != "" {
			return f, fmt.Errorf("plugin %s: %s %s", name, f.Path, f.Problem)
		}
		return f, nil
	}
	return PluginFile{}, fmt.Errorf("no plugin %q: it is not built in (built-ins: %s) and no %s%s is in %s%s",
		name, strings.Join(pipeline.BuiltinPlugins, ", "), PluginFilePrefix, name,
		strings.Join(pluginSearchDirs(h, p), ", "), pipeline.DidYouMean(name, known))
}

// pluginSpec resolves a plugin (or a set's binary) for launching: a built-in, or the
// discovered file with the pipeline's pinned checksum.
func pluginSpec(h *vz.Host, p *pipeline.Pipeline, name string) (pluginhost.Spec, error) {
	name, _ = pipeline.PluginBinary(name) // a set's binary serves all its components
	if slices.Contains(pipeline.BuiltinPlugins, name) {
		return pluginhost.Spec{Name: name}, nil
	}
	if p.RecordedPlugins != nil {
		return recordedPluginSpec(p, name)
	}
	f, err := findPluginFile(h, p, name)
	if err != nil {
		return pluginhost.Spec{}, err
	}
	return pluginhost.Spec{Name: name, Path: f.Path, SHA256: p.RequiredPlugins[name]}, nil
}

// checkRequiredPlugins checks every pin of the pipeline before any plugin
// starts: it names an external plugin that is found, trusted and whose file
// has the pinned SHA-256.
func checkRequiredPlugins(h *vz.Host, p *pipeline.Pipeline) error {
	names := make([]string, 0, len(p.RequiredPlugins))
	for name := range p.RequiredPlugins {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if slices.Contains(pipeline.BuiltinPlugins, name) {
			return fmt.Errorf("required_plugins pins %s, which is built into reinstall (built-ins are part of the binary and cannot be pinned): remove that entry", name)
		}
		f, err := findPluginFile(h, p, name)
		if err != nil {
			return err
		}
		got, err := pluginhost.FileSHA256(f.Path)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", name, err)
		}
		if want := p.RequiredPlugins[name]; !strings.EqualFold(got, want) {
			return &pluginhost.ChecksumError{Plugin: name, Path: f.Path, Got: got, Pinned: want}
		}
	}
	return nil
}

// PluginListing is one plugin as `reinstall plugins list` shows it.
type PluginListing struct {
	Name       string   `json:"name"`
	Builtin    bool     `json:"builtin"`
	Path       string   `json:"path,omitempty"`
	SHA256     string   `json:"sha256,omitempty"`
	Version    string   `json:"version,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
	Protocol   int      `json:"protocol,omitempty"`
	SDKVersion string   `json:"sdk_version,omitempty"`
	// Capabilities are the optional protocol features the plugin announces.
	Capabilities []string `json:"capabilities,omitempty"`
	// Components are a plugin set's components; each is listed after the
	// set as a plugin of its own, named <binary>.<component>.
	Components []string `json:"components,omitempty"`
	// Status is "ok", or why the plugin cannot be used.
	Status string `json:"status"`
}

// ListPlugins describes the built-in plugins, then every discovered plugin
// file. Each usable plugin is started (outside any run, with no host
// services) to ask its version and stage kinds.
func ListPlugins(ctx context.Context, o Options) []PluginListing {
	l := &pluginhost.Launcher{
		Logger:    o.Logger,
		SocketDir: o.Host.Path("/run/reinstall/plugins"),
		SelfExe:   o.SelfExe,
	}
	var out []PluginListing
	for _, name := range pipeline.BuiltinPlugins {
		e := PluginListing{Name: name, Builtin: true}
		out = append(out, describePlugin(ctx, l, pluginhost.Spec{Name: name}, e)...)
	}
	for _, f := range DiscoverPlugins(o.Host) {
		e := PluginListing{Name: f.Name, Path: f.Path, Status: f.Problem}
		if sum, err := pluginhost.FileSHA256(f.Path); err == nil {
			e.SHA256 = sum
		}
		if f.Problem == "" {
			out = append(out, describePlugin(ctx, l, pluginhost.Spec{Name: f.Name, Path: f.Path, SHA256: e.SHA256}, e)...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// describePlugin starts a plugin, asks for its info and stops it. A
// plugin set is listed as itself, then each component as a plugin.
func describePlugin(ctx context.Context, l *pluginhost.Launcher, spec pluginhost.Spec, e PluginListing) []PluginListing {
	p, err := l.Launch(ctx, spec, nil)
	if err != nil {
		e.Status = "error: " + err.Error()
		return []PluginListing{e}
	}
	defer p.Close()
	info, err := p.Info(ctx)
	if err != nil {
		e.Status = "error: " + err.Error()
		return []PluginListing{e}
	}
	e.Version, e.Kinds, e.Protocol, e.SDKVersion, e.Capabilities = info.Version, info.Kinds, info.Protocol, info.SDKVersion, info.Capabilities
	e.Status = "ok"
	if len(info.Components) > 0 {
		e.Components = info.Components
		e.Status = "ok (plugin set)"
		out := []PluginListing{e}
		for _, c := range info.Components {
			ce := PluginListing{Name: spec.Name + "." + c, Path: e.Path, SHA256: e.SHA256, Protocol: e.Protocol, SDKVersion: e.SDKVersion, Status: "ok"}
			if ci, err := p.Component(c).Info(ctx); err != nil {
				ce.Status = "error: " + err.Error()
			} else {
				ce.Version, ce.Kinds, ce.Capabilities = ci.Version, ci.Kinds, ci.Capabilities
			}
			out = append(out, ce)
		}
		return out
	}
	if info.Name != spec.Name {
		e.Status = fmt.Sprintf("ok (it calls itself %q)", info.Name)
	}
	return []PluginListing{e}
}
