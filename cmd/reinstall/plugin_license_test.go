package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testLicenseKey = "ACME-7F3A-91C2-E2E-SECRET"
	// examplePin is the placeholder checksum in with-license.hcl.
	examplePin = "0000000000000000000000000000000000000000000000000000000000000000"
)

// licenseSetup builds the example vendor plugin, installs it in the site
// plugin directory under --root, and writes the example pipeline with the
// plugin's real SHA-256 pinned, plus a var file holding the key.
func licenseSetup(t *testing.T, h *testHost) (plugin, pipeline, varFile string) {
	t.Helper()
	bin, err := os.ReadFile(buildLicensePlugin(t))
	if err != nil {
		t.Fatal(err)
	}
	plugin = installPlugin(t, h.Path(sitePluginDir), "acme-license", bin, 0o755)
	src, err := os.ReadFile("../../examples/pipelines/with-license.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), examplePin) {
		t.Fatalf("with-license.hcl has no placeholder pin %s", examplePin)
	}
	pipeline = h.writePipelineFile("with-license.hcl", strings.Replace(string(src), examplePin, fileSHA256(t, plugin), 1))
	varFile = h.Path("root-acme.vars")
	if err := os.WriteFile(varFile, []byte("license_key = \""+testLicenseKey+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return plugin, pipeline, varFile
}

// TestLicensePluginEndToEnd is a vendor's story: build the example plugin
// against plugin-sdk alone, install it, pin it, and reinstall a real
// container with it; then a plugin file changed by one byte is refused
// before anything changes.
func TestLicensePluginEndToEnd(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	plugin, pipeline, varFile := licenseSetup(t, h)
	// The example is formatted, and valid once its plugin is installed
	// and pinned (the plugin is asked for its schema and checks).
	if r := h.cli("fmt", "--check", "../../examples/pipelines/with-license.hcl"); r.code != 0 {
		t.Errorf("fmt --check with-license.hcl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.cli("validate", "--var-file", varFile, pipeline); r.code != 0 || !strings.Contains(r.stdout, "is valid") {
		t.Errorf("validate with-license.hcl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r := h.mustCLI("--pipeline", pipeline, "--var-file", varFile, "101")
	keyFile := h.private("etc/acme-panel/license.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file in the new container: %v\n%s", err, r.stderr)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 0600", st.Mode().Perm())
	}
	if got := readFile(t, keyFile); got != testLicenseKey+"\n" {
		t.Errorf("key file holds %q", got)
	}
	// The activation ran inside the container (its hostname, its view of
	// the key file), through the host's Exec, with its output streamed.
	if got := h.exec("cat /etc/acme-panel/activation"); !strings.Contains(got, "product=acme-panel\n") || !strings.Contains(got, "host=ct101.example\n") {
		t.Errorf("activation record inside the container:\n%s", got)
	}
	if !strings.Contains(r.stderr, "    license: acme-panel: license ") || !strings.Contains(r.stderr, " activated on ct101.example") {
		t.Errorf("the activation command's output is not in the stage's log:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, testLicenseKey) {
		t.Errorf("the license key is in reinstall's output:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "is not pinned") {
		t.Errorf("a pinned plugin was reported unpinned:\n%s", r.stderr)
	}
	if got := h.status(); got != "running" {
		t.Errorf("status %q, want running", got)
	}
	h.assertClean()
	assertNoPluginLeft(t, r, func() []string { return processesOf(plugin) })

	// One byte of the plugin changes: the pin no longer matches.
	h.mustCLI("ct", "stop", "101")
	bin, err := os.ReadFile(plugin)
	if err != nil {
		t.Fatal(err)
	}
	bin[len(bin)/2] ^= 0x01
	if err := os.WriteFile(plugin, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	before := h.tree("")
	r = h.cli("--pipeline", pipeline, "--var-file", varFile, "101")
	if r.code != 2 {
		t.Fatalf("exit %d with a changed plugin, want 2\n%s", r.code, r.stderr)
	}
	want := "reinstall: preflight: plugin acme-license: refusing to start " + plugin + ": its SHA-256 is "
	if !strings.HasPrefix(r.lastLine(), want) || !strings.HasSuffix(withoutLogSuffix(r.lastLine()), " is pinned") {
		t.Errorf("last stderr line:\n got %q\nwant %q...is pinned", r.lastLine(), want)
	}
	assertTree(t, "the private area", before, h.tree(""))
	h.assertClean()
	if left, _ := filepath.Glob(h.Path("vz/private/101.*")); len(left) > 0 {
		t.Errorf("temporary areas left: %v", left)
	}
}

// TestSensitiveValuesStayHidden checks where the license key goes during a
// run: into the key file, and nowhere else — not the journal (copied while
// the run is in progress), not any plugin's environment, not the
// activation command's environment, not reinstall's output.
func TestSensitiveValuesStayHidden(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	_, pipeline, varFile := licenseSetup(t, h)
	tag := newTag(t)
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", tag), 0o755)
	src := readFile(t, pipeline)
	// The activation records its environment; then crashy copies the
	// journal and the environments of every process of the run's cgroup.
	src = strings.Replace(src, `product     = "acme-panel"`, `product     = "acme-panel"
    activate    = ["/bin/sh", "-c", "cat /proc/self/environ > /etc/acme-panel/activation-env"]`, 1)
	snap := h.Path("snapshot")
	src = strings.Replace(src, `  stage "backup-retention" "retention" {}`, `  stage "configure" "snapshot" {
    plugin = "crashy"
    mode   = "snapshot"
    from   = "`+h.Path("vz/lock/101.journal")+`"
    to     = "`+snap+`"
  }
  stage "backup-retention" "retention" {}`, 1)
	pipeline = h.writePipelineFile("with-license-snapshot.hcl", src)

	r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--log-level", "trace", "--pipeline", pipeline, "--var-file", varFile, "101")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	journal := readFile(t, snap)
	if !strings.Contains(journal, `"stage":"license"`) || !strings.Contains(journal, `"license_key":null`) {
		t.Errorf("the journal copy does not record the license stage with its key hidden:\n%s", journal)
	}
	environ := readFile(t, snap+".environ")
	if !strings.Contains(environ, "reinstall-plugin-acme-license") {
		t.Errorf("the environment snapshot lacks the license plugin:\n%s", environ)
	}
	for what, text := range map[string]string{
		"the journal":                       journal,
		"the plugins' environments":         environ,
		"the activation's environment":      readFile(t, h.private("etc/acme-panel/activation-env")),
		"reinstall's stderr (at log trace)": r.stderr,
		"reinstall's stdout":                r.stdout,
	} {
		if strings.Contains(text, testLicenseKey) {
			t.Errorf("the license key is in %s", what)
		}
	}
	if got := readFile(t, h.private("etc/acme-panel/license.key")); got != testLicenseKey+"\n" {
		t.Errorf("key file holds %q", got)
	}
	assertNoPluginLeft(t, r, func() []string { return taggedProcesses(tag) })
}
