package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestMakeInstall runs `make install` into a DESTDIR and checks the tree:
// the binary, the man pages, the three completions and the plugin directory.
func TestMakeInstall(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is missing: run scripts/install-deps.sh")
	}
	tmp := t.TempDir()
	dest := filepath.Join(tmp, "dest")
	cmd := exec.Command("make", "--no-print-directory", "-C", "../..", "install",
		"DESTDIR="+dest, "BIN="+filepath.Join(tmp, "bin/reinstall"), "MANPAGES="+filepath.Join(tmp, "man"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	files := []struct {
		path string
		mode os.FileMode
		want string // a line of its content
	}{
		{"usr/local/sbin/reinstall", 0o755, ""},
		{"usr/local/share/man/man1/reinstall.1", 0o644, `.TH "REINSTALL" "1"`},
		{"usr/local/share/man/man1/reinstall-plan.1", 0o644, "--ostemplate"},
		{"usr/local/share/bash-completion/completions/reinstall", 0o644, "__start_reinstall"},
		{"usr/local/share/zsh/site-functions/_reinstall", 0o644, "#compdef reinstall"},
		{"usr/local/share/fish/vendor_completions.d/reinstall.fish", 0o644, "complete -c reinstall"},
	}
	for _, f := range files {
		p := filepath.Join(dest, f.path)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if st.Mode().Perm() != f.mode || !st.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want a file with %v", f.path, st.Mode(), f.mode)
		}
		if f.want != "" && !strings.Contains(readFile(t, p), f.want) {
			t.Errorf("%s does not hold %q", f.path, f.want)
		}
	}
	if st, err := os.Stat(filepath.Join(dest, "usr/libexec/reinstall/plugins")); err != nil || !st.IsDir() {
		t.Errorf("plugin directory not created: %v", err)
	}
	out, err := exec.Command(filepath.Join(dest, "usr/local/sbin/reinstall"), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "reinstall ") {
		t.Errorf("installed binary: version = %q, %v", out, err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	want := fmt.Sprintf("reinstall %s (plugin protocol %d)\n", version.Version, sdk.ProtocolVersion)
	if got := h.mustCLI("version").stdout; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(h.mustCLI("version", "--json").stdout), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"version": version.Version, "plugin_protocol": float64(sdk.ProtocolVersion)}, got); d != "" {
		t.Errorf("version --json (-want +got):\n%s", d)
	}
}
