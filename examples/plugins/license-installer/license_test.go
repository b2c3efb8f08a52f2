package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

const testKey = "ACME-7F3A-91C2-SECRET"

var testConfig = map[string]any{"license_key": testKey, "product": "acme-panel"}

// runningHost makes a FakeHost whose container runs and whose Exec answers
// like the default activation script.
func runningHost(h *sdktest.FakeHost) {
	h.StartFunc = nil
	_ = h.Start(context.Background())
	h.ExecFunc = func(_ context.Context, req sdk.ExecRequest) (int, error) {
		if req.Stdout != nil {
			_, _ = req.Stdout.Write([]byte("acme-panel: license activated\n"))
		}
		return 0, nil
	}
}

func TestRunInstallsKeyAndActivates(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	runningHost(c.Host)
	out := c.Run(sdk.KindConfigure, testConfig, sdk.RunContext{StageName: "license", CTID: 101})
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	want := map[string]string{"fingerprint": "b0de25f0844ebea4", "key_file": "/etc/acme-panel/license.key"}
	if d := cmp.Diff(want, out.Result.Outputs); d != "" {
		t.Errorf("outputs (-want +got):\n%s", d)
	}
	wantFiles := map[string]sdktest.File{"/etc/acme-panel/license.key": {Data: []byte(testKey + "\n"), Mode: 0o600}}
	if d := cmp.Diff(wantFiles, c.Host.Files()); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	execs := c.Host.ExecCalls()
	if len(execs) != 1 || execs[0].Argv[0] != "/bin/sh" {
		t.Fatalf("exec calls = %+v, want the activation script", execs)
	}
	for _, s := range append(slices.Clone(execs[0].Argv), execs[0].Env...) {
		if strings.Contains(s, testKey) {
			t.Errorf("the license key is in the activation command's argv or environment: %q", s)
		}
	}
	if !slices.Contains(execs[0].Env, "FINGERPRINT=b0de25f0844ebea4") || !slices.Contains(execs[0].Env, "LICENSE_FILE=/etc/acme-panel/license.key") {
		t.Errorf("activation environment = %q", execs[0].Env)
	}
	var logs []string
	for _, ev := range out.Events {
		if ev.Log != nil {
			logs = append(logs, ev.Log.Message)
		}
	}
	wantLogs := []string{"acme-panel: license activated", "license for acme-panel installed in /etc/acme-panel/license.key (fingerprint b0de25f0844ebea4)"}
	if d := cmp.Diff(wantLogs, logs); d != "" {
		t.Errorf("log lines (-want +got):\n%s", d)
	}
	var steps []string
	for _, e := range c.Host.JournalEntries() {
		steps = append(steps, e.Step+":"+string(e.Phase))
	}
	if d := cmp.Diff([]string{"write-key:begin", "write-key:done", "activate:begin", "activate:done"}, steps); d != "" {
		t.Errorf("journal (-want +got):\n%s", d)
	}
}

func TestRollbackRemovesTheKey(t *testing.T) {
	for _, running := range []bool{true, false} {
		c := sdktest.Serve(t, newPlugin())
		runningHost(c.Host)
		if out := c.Run(sdk.KindConfigure, testConfig, sdk.RunContext{}); out.Failure != "" {
			t.Fatal(out.Failure)
		}
		if !running {
			_ = c.Host.Stop(context.Background())
		}
		entries := c.Host.JournalEntries()
		for i := 0; i < 2; i++ { // idempotent
			if rb := c.Rollback(sdk.KindConfigure, testConfig, sdk.RunContext{}, entries); rb.Failure != "" {
				t.Fatalf("Rollback: %s", rb.Failure)
			}
		}
		execs := c.Host.ExecCalls()
		if !running {
			if len(execs) != 1 {
				t.Errorf("stopped container: exec calls %+v, want only the activation", execs)
			}
			continue
		}
		want := []string{"rm", "-f", "/etc/acme-panel/license.key", "/etc/acme-panel/activation"}
		if len(execs) != 3 || !slices.Equal(execs[1].Argv, want) {
			t.Errorf("running container: exec calls %+v, want the activation then %q twice", execs, want)
		}
	}
}

func TestFailures(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	c.Host.ExecFunc = func(context.Context, sdk.ExecRequest) (int, error) { return 3, nil }
	out := c.Run(sdk.KindConfigure, testConfig, sdk.RunContext{})
	if want := `activation command "/bin/sh" exited with status 3`; out.Failure != want {
		t.Errorf("Failure = %q, want %q", out.Failure, want)
	}
	out = c.Run(sdk.KindConfigure, map[string]any{"license_key": "", "product": "acme-panel"}, sdk.RunContext{})
	if out.Failure != "license_key is empty" {
		t.Errorf("Failure = %q, want an empty key refused", out.Failure)
	}
	d := c.Validate(sdk.KindConfigure, map[string]any{"license_key": "k", "product": "../etc", "activate": []string{}})
	var got []string
	for _, x := range d {
		got = append(got, x.Attribute+": "+x.Summary)
	}
	if want := []string{"product: Invalid product", "activate: Empty activation command"}; !slices.Equal(got, want) {
		t.Errorf("Validate = %q, want %q", got, want)
	}
}

// TestConformance builds the plugin and checks the binary as reinstall
// will run it.
func TestConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "reinstall-plugin-"+pluginName)
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	sdktest.Conformance(t, bin, sdktest.RunCase{
		Name:   "install",
		Kind:   sdk.KindConfigure,
		Config: testConfig,
		Setup:  runningHost,
		Check: func(t *testing.T, out sdktest.Outcome, h *sdktest.FakeHost) {
			if f := h.Files()["/etc/acme-panel/license.key"]; string(f.Data) != testKey+"\n" || f.Mode != 0o600 {
				t.Errorf("key file = %q mode %o", f.Data, f.Mode)
			}
		},
	})
}

// TestRequiresTheSDKVersion: the example requires the plugin-sdk version it
// is built with (sdk.SDKVersion), the one a vendor gets with go get.
func TestRequiresTheSDKVersion(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := "github.com/reinstall-dev/reinstall/plugin-sdk v" + sdk.SDKVersion + "\n"
	if !strings.Contains(string(data), want) {
		t.Errorf("go.mod does not require %q:\n%s", strings.TrimSpace(want), data)
	}
}
