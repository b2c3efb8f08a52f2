package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestPluginsLock pins the external plugin a pipeline uses: the file gets a
// required_plugins block with the plugin file's SHA-256 (a stale pin is
// replaced, the rest of the file kept), the run then starts the plugin
// pinned, and a plugin file changed afterwards is refused. --print writes
// nothing; a plugin that is not installed fails and leaves the file alone.
func TestPluginsLock(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path("plugin-dir")
	content := crashyWrapper("serve", newTag(t))
	installPlugin(t, dir, "crashy", content, 0o755)
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	env := []string{"REINSTALL_PLUGIN_DIR=" + dir}

	stale := "# the site's pipeline\nrequired_plugins {\n  crashy = { sha256 = \"" + strings.Repeat("ab", 32) + "\" }\n}\n\n"
	body := crashyPipeline("configure", `    mode = "ok"`)
	file := h.writePipelineFile("site.hcl", stale+body)

	r := h.cliEnv(env, "plugins", "lock", "--print", file)
	if r.code != 0 {
		t.Fatalf("plugins lock --print: exit %d\n%s", r.code, r.stderr)
	}
	wantBlock := "required_plugins {\n  crashy = { sha256 = \"" + want + "\" }\n}\n"
	if r.stdout != wantBlock {
		t.Errorf("plugins lock --print printed\n%s\nwant\n%s", r.stdout, wantBlock)
	}
	if got := readFile(t, file); got != stale+body {
		t.Errorf("--print changed the file:\n%s", got)
	}

	r = h.cliEnv(env, "plugins", "lock", file)
	if r.code != 0 {
		t.Fatalf("plugins lock: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "pinned crashy = "+want) {
		t.Errorf("plugins lock said:\n%s", r.stdout)
	}
	locked := readFile(t, file)
	if wantFile := "# the site's pipeline\n" + wantBlock + "\n" + body; locked != wantFile {
		t.Errorf("locked file:\n%s\nwant:\n%s", locked, wantFile)
	}

	// The run starts the pinned plugin without the "not pinned" warning.
	r = h.cliEnv(env, "--pipeline", file, "101")
	if r.code != 0 {
		t.Fatalf("reinstall with the locked pipeline: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "not pinned") {
		t.Errorf("the locked plugin is reported as not pinned:\n%s", r.stderr)
	}
	// A changed plugin file no longer matches the pin.
	installPlugin(t, dir, "crashy", append(content, "# changed\n"...), 0o755)
	if r = h.cliEnv(env, "--pipeline", file, "--stop", "101"); r.code != 2 || !strings.Contains(r.lastLine(), "its SHA-256 is ") {
		t.Errorf("a changed plugin: exit %d, last line %q; want it refused", r.code, r.lastLine())
	}

	// A pipeline without a block gets one first; an unknown plugin fails.
	fresh := h.writePipelineFile("fresh.hcl", body)
	if r = h.cliEnv(env, "plugins", "lock", fresh); r.code != 0 || !strings.HasPrefix(readFile(t, fresh), "required_plugins {\n  crashy = { sha256 = ") {
		t.Errorf("lock of a file without a block: exit %d, file:\n%s\n%s", r.code, readFile(t, fresh), r.stderr)
	}
	missing := h.writePipelineFile("missing.hcl", strings.Replace(body, `plugin = "crashy"`, `plugin = "acme-license"`, 1))
	before := readFile(t, missing)
	r = h.cliEnv(env, "plugins", "lock", missing)
	if r.code != 2 || !strings.Contains(r.lastLine(), `no plugin "acme-license"`) {
		t.Errorf("lock with a plugin not installed: exit %d, last line %q", r.code, r.lastLine())
	}
	if got, err := os.ReadFile(missing); err != nil || string(got) != before {
		t.Errorf("the failed lock changed the file: %v\n%s", err, got)
	}
}
