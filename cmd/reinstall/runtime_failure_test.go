package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// TestToolRuntimeFailure: a failing tool gives one clear line naming the
// tool, its argv and its message, and the run is refused: nothing changed
// and the tool was asked nothing but its status and the failed command. A
// suspended container (a checkpoint dump) is refused in preflight.
func TestToolRuntimeFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool, mode string
		args       []string
		wantCode   int
		wantLine   string
		wantOthers [][]string // the calls besides status
	}{
		{"vzctl", "fail:status", []string{"101"}, engine.ExitRefused,
			"reinstall: preflight: status of container 101: vzctl status 101 failed (exit 3): Unable to status container: fake failure", nil},
		{"prlctl", "fail:start", []string{"ct", "start", "101"}, engine.ExitRefused,
			"reinstall: start 101: prlctl start 101 failed (exit 3): Failed to start the CT: fake failure", [][]string{{"prlctl", "start", "101"}}},
		{"vzctl", "suspended", []string{"--stop", "101"}, engine.ExitRefused,
			"reinstall: preflight: status of container 101: vzctl status 101: container 101 is suspended (a checkpoint dump exists): resume it or remove the dump first", nil},
		{"prlctl", "suspended", []string{"--stop", "101"}, engine.ExitRefused,
			"reinstall: preflight: status of container 101: prlctl status 101: container 101 is suspended (a checkpoint dump exists): resume it or remove the dump first", nil},
	}
	for _, tt := range tests {
		t.Run(tt.tool+"-"+tt.mode, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			fake := h.installFakeTool(tt.tool, tt.mode)
			before := h.tree("")
			r := h.cliEnv(fake.env(), append([]string{"--runtime", tt.tool}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d", r.code, tt.wantCode)
			}
			// The line may end with where the run's log is.
			if got := r.lastLine(); !strings.HasPrefix(got, tt.wantLine) {
				t.Errorf("last line:\n got %q\nwant %q", got, tt.wantLine)
			}
			assertTree(t, "the container after a refused command", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status = %q, want stopped (untouched)", got)
			}
			_, others := split(fake.calls(t))
			if d := cmp.Diff(tt.wantOthers, others); d != "" {
				t.Errorf("%s calls besides status (-want +got):\n%s", tt.tool, d)
			}
			h.assertClean()
		})
	}
}
