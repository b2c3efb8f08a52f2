package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// discoveryHost is a --root with plugin files in all three directories.
func discoveryHost(t *testing.T) (h *vz.Host, envDir string, files map[string]string) {
	root := t.TempDir()
	h, err := vz.OpenHost(root)
	if err != nil {
		t.Fatal(err)
	}
	envDir = filepath.Join(t.TempDir(), "env")
	t.Setenv(PluginDirEnv, envDir)
	files = map[string]string{}
	put := func(key, dir, name string, mode os.FileMode) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n# "+key+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		files[key] = p
	}
	site, libexec := h.Path(PluginDirs[0]), h.Path(PluginDirs[1])
	put("env-acme", envDir, "reinstall-plugin-acme", 0o755)
	put("site-acme", site, "reinstall-plugin-acme", 0o755)
	put("site-swap", site, "reinstall-plugin-swap", 0o755)
	put("site-loose", site, "reinstall-plugin-loose", 0o775)
	put("libexec-loose", libexec, "reinstall-plugin-loose", 0o755)
	put("libexec-tool", libexec, "reinstall-plugin-tool", 0o755)
	put("libexec-bad-name", libexec, "reinstall-plugin-Bad.Name", 0o755)
	put("libexec-other", libexec, "README", 0o644)
	return h, envDir, files
}

func TestDiscoverPlugins(t *testing.T) {
	h, _, f := discoveryHost(t)
	want := []PluginFile{
		{Name: "acme", Path: f["env-acme"]},
		{Name: "acme", Path: f["site-acme"], Problem: "shadowed by " + f["env-acme"]},
		{Name: "loose", Path: f["site-loose"], Problem: "refused: it is writable by group or others (mode 0775; chmod go-w " + f["site-loose"] + ")"},
		{Name: "swap", Path: f["site-swap"], Problem: "shadowed by the built-in plugin swap"},
		{Name: "loose", Path: f["libexec-loose"], Problem: "shadowed by " + f["site-loose"]},
		{Name: "tool", Path: f["libexec-tool"]},
	}
	if d := cmp.Diff(want, DiscoverPlugins(h)); d != "" {
		t.Errorf("DiscoverPlugins (-want +got):\n%s", d)
	}
}

func TestPluginSpec(t *testing.T) {
	h, _, f := discoveryHost(t)
	p := &pipeline.Pipeline{RequiredPlugins: map[string]string{"tool": strings.Repeat("a", 64)}}
	tests := []struct {
		name string
		want pluginhost.Spec
		err  string
	}{
		{name: "swap", want: pluginhost.Spec{Name: "swap"}},
		{name: "acme", want: pluginhost.Spec{Name: "acme", Path: f["env-acme"]}},
		{name: "tool", want: pluginhost.Spec{Name: "tool", Path: f["libexec-tool"], SHA256: strings.Repeat("a", 64)}},
		// The first file found is the plugin: an untrusted one is refused,
		// not skipped for the trusted file further down the search.
		{name: "loose", err: "plugin loose: " + f["site-loose"] + " refused: it is writable by group or others"},
		{name: "acme-lisence", err: `no plugin "acme-lisence": it is not built in`},
		{name: "tol", err: `(did you mean "tool"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pluginSpec(h, p, tt.name)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("pluginSpec(%s) error = %v, want %q", tt.name, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("pluginSpec(%s) (-want +got):\n%s", tt.name, d)
			}
		})
	}
}

func TestCheckRequiredPlugins(t *testing.T) {
	h, _, f := discoveryHost(t)
	data, err := os.ReadFile(f["libexec-tool"])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name string
		pins map[string]string
		err  string
	}{
		{name: "none"},
		{name: "matching", pins: map[string]string{"tool": strings.ToUpper(good)}},
		{name: "mismatch", pins: map[string]string{"tool": strings.Repeat("0", 64)},
			err: "plugin tool: refusing to start " + f["libexec-tool"] + ": its SHA-256 is " + good + ", but " + strings.Repeat("0", 64) + " is pinned"},
		{name: "built-in", pins: map[string]string{"swap": good}, err: "required_plugins pins swap, which is built into reinstall"},
		{name: "missing", pins: map[string]string{"gone": good}, err: `no plugin "gone"`},
		{name: "untrusted", pins: map[string]string{"loose": good}, err: "refused: it is writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRequiredPlugins(h, &pipeline.Pipeline{RequiredPlugins: tt.pins})
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
			if tt.name == "mismatch" {
				var ce *pluginhost.ChecksumError
				if !errors.As(err, &ce) {
					t.Errorf("error %T is not a ChecksumError", err)
				}
			}
		})
	}
}

func TestWithoutSensitive(t *testing.T) {
	config := []byte(`{"license_key":"K-1","product":"acme","n":3}`)
	got := string(pipeline.WithoutSensitive(config, []string{"license_key", "absent"}))
	if want := `{"license_key":null,"n":3,"product":"acme"}`; got != want {
		t.Errorf("withoutSensitive = %s, want %s", got, want)
	}
	if got := string(pipeline.WithoutSensitive(config, nil)); got != string(config) {
		t.Errorf("withoutSensitive with nothing sensitive = %s", got)
	}
	if got := string(pipeline.WithoutSensitive([]byte("not json"), []string{"k"})); got != "{}" {
		t.Errorf("withoutSensitive of garbage = %s, want {}", got)
	}
	if d := cmp.Diff([]string{"a", "license_key", "z"}, pipeline.WithSensitiveUnknown([]string{"z", "a"}, []string{"license_key", "a"})); d != "" {
		t.Errorf("withSensitiveUnknown (-want +got):\n%s", d)
	}
}

// A recovery searches exactly the plugin directory its run used, never the
// caller's; a run records its $REINSTALL_PLUGIN_DIR as an absolute path.
func TestPluginDirOf(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  string
		p    *pipeline.Pipeline
		want string
	}{
		{"run, no variable", "", &pipeline.Pipeline{}, ""},
		{"run, absolute", "/opt/plugins", &pipeline.Pipeline{}, "/opt/plugins"},
		{"run, relative", "plugins", &pipeline.Pipeline{}, filepath.Join(wd, "plugins")},
		{"recovery of a run without one", "/home/dev/plugins", &pipeline.Pipeline{PluginDirRecorded: true}, ""},
		{"recovery of a run with one", "/home/dev/plugins", &pipeline.Pipeline{PluginDir: "/opt/plugins", PluginDirRecorded: true}, "/opt/plugins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(PluginDirEnv, tt.env)
			if got := PluginDirOf(tt.p); got != tt.want {
				t.Errorf("PluginDirOf = %q, want %q", got, tt.want)
			}
		})
	}
}
