package main

import (
	"strings"
	"testing"
)

// TestPluginOutputInRunLog runs a vendor plugin that logs at every level
// and writes to os.Stderr, then dies. Every line reaches the run's log file
// at its level; the terminal shows only the levels of --log-level. A panic
// is one line on the terminal (the error) with its stack in the log file;
// a plugin that exits has its own last lines quoted, never go-plugin's.
func TestPluginOutputInRunLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, kind, mode string
		// wantLast is in the last stderr line.
		wantLast string
		// wantLog are more lines the log file must hold.
		wantLog []string
		// wantReport is in the crash report above the last line.
		wantReport []string
	}{
		{
			name: "panic", kind: "configure", mode: "panic",
			wantLast: "plugin crashy crashed during stage activate: panic: crashy: boom (exit status 2)",
			wantLog: []string{
				"[ERROR] reinstall.plugin.crashy: the plugin crashed: panic: crashy: boom:",
				"goroutine ",
				"crashyStage.Run",
			},
		},
		{
			name: "exit", kind: "reinstall-hook", mode: "exit",
			wantLast:   "plugin crashy crashed during stage activate: [ERROR] about to misbehave mode=exit (exit status 3)",
			wantReport: []string{"crashed during stage activate; its last lines", "| crashy says raw stderr", "| [INFO] crashy says info"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			dir := h.Path("plugin-dir")
			installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
			pipeline := h.writePipelineFile("crashy.hcl", crashyPipeline(tt.kind, `    mode = "`+tt.mode+`"`))
			r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--pipeline", pipeline, "101")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.lastLine(), tt.wantLast) {
				t.Errorf("last stderr line:\n got %q\nwant it to contain %q", r.lastLine(), tt.wantLast)
			}
			log := readFile(t, h.logFiles("101")[0])
			for _, want := range append([]string{
				"[TRACE] reinstall.plugin.crashy.activate: crashy says trace",
				"[DEBUG] reinstall.plugin.crashy.activate: crashy says debug",
				"[INFO]  reinstall.plugin.crashy.activate: crashy says info",
				"[WARN]  reinstall.plugin.crashy.activate: crashy says warn",
				"[ERROR] reinstall.plugin.crashy.activate: about to misbehave: mode=" + tt.mode,
				"[DEBUG] reinstall.plugin.crashy: crashy says raw stderr",
			}, tt.wantLog...) {
				if !strings.Contains(log, want) {
					t.Errorf("the log file lacks %q:\n%s", want, log)
				}
			}
			if n := strings.Count(log, "reinstall.plugin.crashy.activate: crashy says info"); n != 1 {
				t.Errorf("the log file has the info line %d times, want once:\n%s", n, log)
			}
			// The terminal: the levels of --log-level (warn) live, no stack,
			// and one line about a panic.
			if !strings.Contains(r.stderr, "reinstall.plugin.crashy.activate: crashy says warn") {
				t.Errorf("the warn line is not on the terminal:\n%s", r.stderr)
			}
			for _, not := range []string{"goroutine ", "crashy says trace", "plugin address", "timestamp="} {
				if strings.Contains(r.stderr, not) {
					t.Errorf("the terminal shows %q:\n%s", not, r.stderr)
				}
			}
			if tt.mode == "panic" {
				if n := strings.Count(r.stderr, "boom"); n != 1 {
					t.Errorf("the panic is on %d terminal lines, want the error line alone:\n%s", n, r.stderr)
				}
			}
			report := strings.TrimSuffix(r.stderr, r.lastLine()+"\n")
			for _, want := range tt.wantReport {
				if !strings.Contains(report, want) {
					t.Errorf("the crash report lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}
