package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crashyPipeline runs the crashy plugin as the stage "activate" of the
// given kind, before the swap (reinstall-hook) or after it (configure).
func crashyPipeline(kind, body string) string {
	stage := fmt.Sprintf("stage %q \"activate\" {\n    plugin = \"crashy\"\n%s\n  }", kind, body)
	before, after := stage, ""
	if kind == "configure" {
		before, after = "", stage
	}
	return fmt.Sprintf(`pipeline "crashy" {
  stage "provision" "template" {}
  %s
  stage "swap" "swap" {}
  stage "start" "start" {}
  %s
  stage "backup-retention" "retention" {}
}
`, before, after)
}

// TestPluginFailuresRollBack runs a real reinstall whose stage "activate"
// is served by a deliberately broken external plugin, found through
// $REINSTALL_PLUGIN_DIR. Crashes and hangs mid-stage fail the run (exit 1)
// and roll back, after the swap too; a plugin that cannot complete its
// handshake is refused before anything changes (exit 2). Every case ends
// with the old private area byte-identical and no plugin process left.
func TestPluginFailuresRollBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, how, kind, body string
		code                  int
		// want is the start of stderr's last line after "reinstall: activate: ".
		want string
		// also are more substrings of the last line.
		also []string
	}{
		{name: "panic after the swap", how: "serve", kind: "configure", body: `    mode = "panic"`, code: 1,
			want: "plugin crashy crashed during stage activate: panic: crashy: boom", also: []string{"(exit status 2)"}},
		{name: "os.Exit before the swap", how: "serve", kind: "reinstall-hook", body: `    mode = "exit"`, code: 1,
			want: "plugin crashy crashed during stage activate: ", also: []string{"about to misbehave", "(exit status 3)"}},
		{name: "SIGKILL after the swap", how: "serve", kind: "configure", body: `    mode = "sigkill"`, code: 1,
			want: "plugin crashy crashed during stage activate: ", also: []string{"about to misbehave", "(signal: killed)"}},
		{name: "hang past the timeout", how: "serve", kind: "configure", body: "    mode = \"hang\"\n    timeout = \"2s\"", code: 1,
			want: "timed out after 2s (raise the stage's timeout)"},
		{name: "stdout before the handshake", how: "stdout", kind: "configure", body: `    mode = "ok"`, code: 2,
			want: "plugin crashy wrote to stdout before the handshake (plugins must log to stderr): hello from crashy"},
		{name: "protocol mismatch", how: "v2", kind: "configure", body: `    mode = "ok"`, code: 2,
			want: "plugin crashy speaks stage protocol version 2, but this reinstall speaks version 1: install a build of the plugin made with a plugin-sdk for protocol 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			tag := newTag(t)
			dir := h.Path("plugin-dir")
			installPlugin(t, dir, "crashy", crashyWrapper(tt.how, tag), 0o755)
			pipeline := h.writePipelineFile("crashy.hcl", crashyPipeline(tt.kind, tt.body))
			before := h.tree("")

			r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--pipeline", pipeline, "101")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			last := r.lastLine()
			// A plugin that fails to start is a pipeline problem, reported
			// with its place in the file; a failing stage names the stage.
			prefix := "reinstall: activate: " + tt.want
			if tt.code == 2 {
				prefix = "reinstall: preflight: " + pipeline + ":"
			}
			if !strings.HasPrefix(last, prefix) || !strings.Contains(last, tt.want) {
				t.Errorf("last stderr line:\n got %q\nwant %q...%q", last, prefix, tt.want)
			}
			for _, s := range tt.also {
				if !strings.Contains(last, s) {
					t.Errorf("last stderr line %q lacks %q", last, s)
				}
			}
			if tt.code == 1 && !strings.Contains(r.stderr, "rolled back: the container is as it was") {
				t.Errorf("no rollback reported:\n%s", r.stderr)
			}
			// The plugin's last stderr lines reach the operator above the error.
			if tt.code == 1 && !strings.Contains(r.stderr, "reinstall.plugin.crashy.activate: about to misbehave") {
				t.Errorf("the plugin's stderr is not in the log:\n%s", r.stderr)
			}
			assertTree(t, "the private area", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status %q, want stopped (as before the run)", got)
			}
			h.assertClean()
			assertNoPluginLeft(t, r, func() []string { return taggedProcesses(tag) })
		})
	}
}

// TestPluginRefusals covers plugins the host will not start: each is
// refused before any change (exit 2) and never runs.
func TestPluginRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		install func(h *testHost, dir, marker string)
		plugin  string
		pins    string
		want    string
		also    string
	}{
		{
			name: "group-writable plugin file",
			install: func(h *testHost, dir, marker string) {
				installPlugin(h.t, dir, "crashy", markingWrapper(marker), 0o775)
			},
			plugin: "crashy",
			want:   `Stage "activate": plugin crashy: %[1]s/reinstall-plugin-crashy refused: it is writable by group or others (mode 0775; chmod go-w`,
		},
		{
			name: "plugin file not owned by root",
			install: func(h *testHost, dir, marker string) {
				p := installPlugin(h.t, dir, "crashy", markingWrapper(marker), 0o755)
				if err := os.Chown(p, 1000, 1000); err != nil {
					h.t.Fatal(err)
				}
			},
			plugin: "crashy",
			want:   `Stage "activate": plugin crashy: %[1]s/reinstall-plugin-crashy refused: it is owned by uid 1000, not root`,
		},
		{
			name: "unknown plugin",
			install: func(h *testHost, dir, marker string) {
				installPlugin(h.t, dir, "acme-license", markingWrapper(marker), 0o755)
			},
			plugin: "acme-licence",
			want:   `Unknown plugin; Stage "activate": no plugin "acme-licence": it is not built in (built-ins: `,
			also:   `(did you mean "acme-license"?)`,
		},
		{
			name: "pinned plugin does not match",
			install: func(h *testHost, dir, marker string) {
				installPlugin(h.t, dir, "crashy", markingWrapper(marker), 0o755)
			},
			plugin: "crashy",
			pins:   "required_plugins {\n  crashy = { sha256 = \"" + strings.Repeat("ab", 32) + "\" }\n}\n",
			want:   "plugin crashy: refusing to start %[1]s/reinstall-plugin-crashy: its SHA-256 is ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			dir := h.Path(sitePluginDir)
			marker := h.Path("plugin-ran")
			tt.install(h, dir, marker)
			body := strings.Replace(crashyPipeline("configure", `    mode = "ok"`), `plugin = "crashy"`, fmt.Sprintf("plugin = %q", tt.plugin), 1)
			pipeline := h.writePipelineFile("refused.hcl", tt.pins+body)
			before := h.tree("")
			r := h.cli("--pipeline", pipeline, "101")
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstderr:\n%s", r.code, r.stderr)
			}
			if want := strings.ReplaceAll(tt.want, "%[1]s", dir); !strings.HasPrefix(r.lastLine(), "reinstall: preflight: ") || !strings.Contains(r.lastLine(), want) {
				t.Errorf("last stderr line:\n got %q\nwant \"reinstall: preflight: ...%s...\"", r.lastLine(), want)
			}
			if !strings.Contains(r.lastLine(), tt.also) {
				t.Errorf("last stderr line %q lacks %q", r.lastLine(), tt.also)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()
			if exists(marker) {
				t.Error("the refused plugin ran")
			}
		})
	}
}

// markingWrapper is a plugin file that records it ran, then serves crashy.
func markingWrapper(marker string) []byte {
	return fmt.Appendf(nil, "#!/bin/sh\n: > %s\nexec env %s=serve %s\n", marker, envTestPlugin, os.Args[0])
}

// TestBuiltinNamesWin installs a plugin file named after a built-in: the
// built-in runs, the file never does, and plugins list says why.
func TestBuiltinNamesWin(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := h.Path(sitePluginDir)
	marker := h.Path("plugin-ran")
	installPlugin(t, dir, "swap", markingWrapper(marker), 0o755)
	h.mustCLI("101")
	if exists(marker) {
		t.Error("a plugin file named like the built-in swap ran")
	}
	list := h.mustCLI("plugins", "list").stdout
	want := filepath.Join(dir, "reinstall-plugin-swap")
	if !strings.Contains(list, want) || !strings.Contains(list, "shadowed by the built-in plugin swap") {
		t.Errorf("plugins list does not show %s as shadowed:\n%s", want, list)
	}
}
