package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/version"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestPluginsList lists built-ins and plugin files from every directory:
// the usable ones with what they say of themselves, the others with why
// they are not used.
func TestPluginsList(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	tag := newTag(t)
	envDir := h.Path("plugin-dir")
	siteDir := h.Path(sitePluginDir)
	libexecDir := h.Path("usr/libexec/reinstall/plugins")
	bin, err := os.ReadFile(buildLicensePlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	license := installPlugin(t, siteDir, "acme-license", bin, 0o755)
	crashy := installPlugin(t, envDir, "crashy", crashyWrapper("serve", tag), 0o755)
	shadowed := installPlugin(t, libexecDir, "crashy", crashyWrapper("serve", tag), 0o755)
	swap := installPlugin(t, siteDir, "swap", crashyWrapper("serve", tag), 0o755)
	loose := installPlugin(t, libexecDir, "loose", crashyWrapper("serve", tag), 0o775)
	if err := os.WriteFile(filepath.Join(siteDir, "README"), []byte("not a plugin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"REINSTALL_PLUGIN_DIR=" + envDir}

	r := h.cliEnv(env, "plugins", "list", "--json")
	if r.code != 0 {
		t.Fatalf("plugins list --json: exit %d\n%s", r.code, r.stderr)
	}
	var rows []engine.PluginListing
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("plugins list --json: %v\n%s", err, r.stdout)
	}
	got := map[string]engine.PluginListing{}
	for _, row := range rows {
		key := row.Name
		if row.Path != "" {
			key = row.Path
		}
		got[key] = row
	}
	want := map[string]engine.PluginListing{
		"swap":   {Name: "swap", Builtin: true, Version: version.Version, Kinds: []string{"swap"}, Protocol: 1, SDKVersion: sdk.SDKVersion, Capabilities: []string{sdk.CapabilityDescribe}, Status: "ok"},
		crashy:   {Name: "crashy", Path: crashy, SHA256: fileSHA256(t, crashy), Version: "0.0.1", Kinds: []string{"configure", "reinstall-hook"}, Protocol: 1, SDKVersion: sdk.SDKVersion, Capabilities: []string{sdk.CapabilityDescribe}, Status: "ok"},
		license:  {Name: "acme-license", Path: license, SHA256: fileSHA256(t, license), Version: "1.0.0", Kinds: []string{"configure"}, Protocol: 1, SDKVersion: sdk.SDKVersion, Status: "ok"},
		swap:     {Name: "swap", Path: swap, SHA256: fileSHA256(t, swap), Status: "shadowed by the built-in plugin swap"},
		shadowed: {Name: "crashy", Path: shadowed, SHA256: fileSHA256(t, shadowed), Status: "shadowed by " + crashy},
		loose: {Name: "loose", Path: loose, SHA256: fileSHA256(t, loose),
			Status: "refused: it is writable by group or others (mode 0775; chmod go-w " + loose + ")"},
	}
	for key, w := range want {
		if d := cmp.Diff(w, got[key]); d != "" {
			t.Errorf("plugins list entry %s (-want +got):\n%s", key, d)
		}
	}
	if len(rows) != len(pipeline.BuiltinPlugins)+5 {
		t.Errorf("plugins list has %d entries, want the %d built-ins and 5 files", len(rows), len(pipeline.BuiltinPlugins))
	}

	text := h.cliEnv(env, "plugins", "list").stdout
	lines := strings.Split(text, "\n")
	if !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "VERSION") || !strings.Contains(lines[0], "SHA256") {
		t.Errorf("plugins list header: %q", lines[0])
	}
	wantLine := []string{"acme-license", "1.0.0", "configure", license, fileSHA256(t, license), "ok"}
	found := false
	for _, l := range lines {
		if strings.Join(strings.Fields(l), " ") == strings.Join(wantLine, " ") {
			found = true
		}
	}
	if !found {
		t.Errorf("plugins list lacks the line %q:\n%s", wantLine, text)
	}
	if left := append(taggedProcesses(tag), processesOf(license)...); len(left) > 0 {
		t.Errorf("plugin processes left after plugins list: %v", left)
	}
}
