package main

import (
	"os"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// TestRuntimeSettingDiagnostics: a bad runtime setting is an HCL error
// pointing at it; a bad --runtime is refused.
func TestRuntimeSettingDiagnostics(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	p := writeToolPipeline(t, h, `runtime = "vzclt"`)
	r := h.cli("validate", p)
	if r.code == 0 || !strings.Contains(r.stderr, "Error: Invalid runtime") || !strings.Contains(r.stderr, `:   runtime = "vzclt"`) {
		t.Errorf("validate with runtime = \"vzclt\": exit %d\n%s", r.code, r.stderr)
	}
	r = h.cli("--runtime", "lxd", "101")
	if r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), `unknown runtime "lxd"`) {
		t.Errorf("--runtime lxd: exit %d, %q", r.code, r.lastLine())
	}
	p = writeToolPipeline(t, h, `runtime = "lxc"`)
	if r := h.cli("validate", p); r.code == 0 || !strings.Contains(r.stderr, "Error: Invalid runtime") {
		t.Errorf("validate with runtime = \"lxc\" (a command-line choice): exit %d\n%s", r.code, r.stderr)
	}
}

// TestPloopRefused: a ploop container (VE_LAYOUT=ploop in its config, or a
// root.hdd in its private area) is refused before anything changes.
func TestPloopRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(h *testHost)
		want    string
	}{
		{"VE_LAYOUT", func(h *testHost) {
			conf := h.Path("etc/vz/conf/101.conf")
			data, _ := os.ReadFile(conf)
			os.WriteFile(conf, append(data, "VE_LAYOUT=\"ploop\"\n"...), 0o644)
		}, "reinstall: preflight: container 101 uses a ploop image (VE_LAYOUT=ploop in %ROOT%/etc/vz/conf/101.conf); only simfs (directory) private areas are supported"},
		{"root.hdd", func(h *testHost) {
			os.Mkdir(h.private("root.hdd"), 0o700)
		}, "reinstall: preflight: container 101 uses a ploop image (%ROOT%/vz/private/101/root.hdd); only simfs (directory) private areas are supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			tt.prepare(h)
			before := h.tree("")
			r := h.cli("101")
			want := strings.ReplaceAll(tt.want, "%ROOT%", h.Root)
			if r.code != engine.ExitRefused || !strings.HasPrefix(r.lastLine(), want) {
				t.Errorf("exit %d, last line\n got %q\nwant %q", r.code, r.lastLine(), want)
			}
			assertTree(t, "the refused container", before, h.tree(""))
			h.assertClean()
		})
	}
}

// mustRun runs the CLI with extra environment and fails unless it exits 0.
func (h *testHost) mustRun(env []string, args ...string) result {
	h.t.Helper()
	r := h.cliEnv(env, args...)
	if r.code != 0 {
		h.t.Fatalf("reinstall %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}
