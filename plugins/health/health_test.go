package health

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   []string // attribute of each diagnostic
	}{
		{"all checks", map[string]any{"command": []string{"test", "-f", "/etc/ready"}, "tcp": []int{22, 80}, "systemd": "auto", "wait": "2m"}, nil},
		{"nothing", map[string]any{}, nil},
		{"bad port", map[string]any{"tcp": []int{22, 0, 70000}}, []string{"tcp[1]", "tcp[2]"}},
		{"bad systemd", map[string]any{"systemd": "yes"}, []string{"systemd"}},
		{"bad wait", map[string]any{"wait": "soon"}, []string{"wait"}},
		{"negative wait", map[string]any{"wait": "-1s"}, []string{"wait"}},
		{"empty command", map[string]any{"command": []string{}}, []string{"command"}},
	}
	c := sdktest.Serve(t, Plugin())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range c.Validate(sdk.KindConfigure, tt.config) {
				got = append(got, d.Attribute)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
		})
	}
}

// privateWithInit is a private area whose /sbin/init links to target.
func privateWithInit(t *testing.T, target string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"sbin", "usr/lib/systemd", "bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"usr/lib/systemd/systemd", "bin/busybox"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "sbin/init")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeContainer answers the commands the checks run: systemctl prints the
// states in turn (the last one sticks), "ready" fails until its third try,
// "hang" runs until cancelled, anything else prints and fails.
type fakeContainer struct {
	states []string
	tries  atomic.Int32
}

func (f *fakeContainer) exec(ctx context.Context, req sdk.ExecRequest) (int, error) {
	switch strings.Join(req.Argv, " ") {
	case "systemctl is-system-running":
		i := int(f.tries.Add(1)) - 1
		state := f.states[min(i, len(f.states)-1)]
		fmt.Fprintln(req.Stdout, state)
		if state == systemRunning {
			return 0, nil
		}
		return 1, nil
	case "systemctl list-units --state=failed --no-legend --plain --full":
		fmt.Fprintln(req.Stdout, "broken.service loaded failed failed A unit that fails")
		return 0, nil
	case "ready":
		if f.tries.Add(1) < 3 {
			fmt.Fprintln(req.Stderr, "not yet")
			return 1, nil
		}
		return 0, nil
	case "hang":
		fmt.Fprintln(req.Stdout, "hanging")
		<-ctx.Done()
		return -1, ctx.Err()
	}
	fmt.Fprintln(req.Stderr, "no such thing")
	return 2, nil
}

func TestRun(t *testing.T) {
	systemd := "/lib/systemd/systemd"
	tests := []struct {
		name      string
		config    map[string]any
		init      string
		states    []string
		ports     []int
		wantErr   string // in the failure; "" = passes
		wantCheck string // the checks output when it passes
		wantLog   string // in a log line
	}{
		{"command passes on its third try", map[string]any{"command": []string{"ready"}, "wait": "30s"}, "/bin/busybox", nil, nil, "", "command", ""},
		{"command fails with its last output", map[string]any{"command": []string{"false", "x"}, "wait": "1s"}, "/bin/busybox", nil, nil,
			"health check failed after 1s", "", ""},
		{"hanging command bounded by wait", map[string]any{"command": []string{"hang"}, "wait": "1s"}, "/bin/busybox", nil, nil,
			"command hang: still running when wait ran out: hanging", "", ""},
		{"ports listen", map[string]any{"tcp": []int{80, 22}, "wait": "5s"}, "/bin/busybox", nil, []int{22, 80, 3306}, "", "tcp", ""},
		{"a port does not listen", map[string]any{"tcp": []int{22, 80}, "wait": "1s"}, "/bin/busybox", nil, []int{22},
			"tcp 22, 80: not listening on 80 (listening: 22)", "", ""},
		{"systemd starting then running", map[string]any{"systemd": "auto", "wait": "30s"}, systemd, []string{"starting", "starting", "running"}, nil, "", "systemd", ""},
		{"systemd degraded refused", map[string]any{"systemd": "auto", "wait": "1s"}, systemd, []string{"degraded"}, nil,
			"systemd: degraded, failed units: broken.service", "", ""},
		{"systemd degraded allowed", map[string]any{"systemd": "auto", "allow_degraded": true, "wait": "5s"}, systemd, []string{"degraded"}, nil,
			"", "systemd", "systemd is degraded (allowed): failed units: broken.service"},
		{"systemd never settles", map[string]any{"systemd": "auto", "wait": "1s"}, systemd, []string{"starting"}, nil, "systemd: starting", "", ""},
		{"not systemd: no check", map[string]any{"systemd": "auto", "wait": "1s"}, "/bin/busybox", []string{"offline"}, nil,
			"", "", "the container's init (/sbin/init → /bin/busybox) is not systemd: no systemd check"},
		{"all three", map[string]any{"command": []string{"ready"}, "tcp": []int{22}, "systemd": "auto", "wait": "30s"}, systemd, []string{"running"}, []int{22}, "", "command,tcp,systemd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sdktest.Serve(t, Plugin())
			ct := &fakeContainer{states: tt.states}
			c.Host.ExecFunc = ct.exec
			c.Host.SetListeningPorts(tt.ports...)
			out := c.Run(sdk.KindConfigure, tt.config, sdk.RunContext{CTID: 101, Private: privateWithInit(t, tt.init)})
			if tt.wantErr != "" {
				if !strings.Contains(out.Failure, tt.wantErr) {
					t.Fatalf("failure %q, want one with %q", out.Failure, tt.wantErr)
				}
				return
			}
			if out.Failure != "" {
				t.Fatalf("failed: %s", out.Failure)
			}
			if got := out.Result.Outputs["checks"]; got != tt.wantCheck {
				t.Errorf("checks = %q, want %q", got, tt.wantCheck)
			}
			if tt.wantLog != "" && !hasLog(out.Events, tt.wantLog) {
				t.Errorf("no log line %q in %+v", tt.wantLog, out.Events)
			}
		})
	}
}

// TestFailureNamesCheckAndOutput: the failure names the check that did not
// pass and the last output of its command; a check that passed is not named.
func TestFailureNamesCheckAndOutput(t *testing.T) {
	c := sdktest.Serve(t, Plugin())
	c.Host.ExecFunc = (&fakeContainer{}).exec
	c.Host.SetListeningPorts(22)
	out := c.Run(sdk.KindConfigure, map[string]any{"command": []string{"false"}, "tcp": []int{22}, "wait": "1s"},
		sdk.RunContext{CTID: 101, Private: privateWithInit(t, "/bin/busybox")})
	want := "health check failed after 1s"
	if !strings.HasPrefix(out.Failure, want) || !strings.HasSuffix(out.Failure, "): command false: exit 2: no such thing") {
		t.Errorf("failure %q, want %q… naming only the command, its exit and output", out.Failure, want)
	}
}

// TestProgressNamesPendingCheck: progress says which check is awaited,
// and its first failed try is logged once (a log without progress shows it).
func TestProgressNamesPendingCheck(t *testing.T) {
	c := sdktest.Serve(t, Plugin())
	c.Host.SetListeningPorts(22)
	out := c.Run(sdk.KindConfigure, map[string]any{"tcp": []int{80}, "wait": "1s"},
		sdk.RunContext{CTID: 101, Private: privateWithInit(t, "/bin/busybox")})
	var progress []string
	for _, ev := range out.Events {
		if ev.Progress != nil {
			progress = append(progress, ev.Progress.Message)
		}
	}
	if len(progress) == 0 || progress[0] != "waiting for tcp 80" {
		t.Errorf("progress %q, want \"waiting for tcp 80\" first", progress)
	}
	var logs []string
	for _, ev := range out.Events {
		if ev.Log != nil {
			logs = append(logs, ev.Log.Message)
		}
	}
	want := []string{"tcp 80: not yet (not listening on 80 (listening: 22)); retrying for up to 1s"}
	if d := cmp.Diff(want, logs); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}

func hasLog(events []sdk.Event, msg string) bool {
	for _, ev := range events {
		if ev.Log != nil && strings.Contains(ev.Log.Message, msg) {
			return true
		}
	}
	return false
}
