package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// fakeTool is a fake vzctl or prlctl (testdata/fake-<name>) installed as
// <dir>/<name>; it records every call in log and delegates to the native
// runtime.
type fakeTool struct {
	name, dir, log string
}

// installFakeTool installs testdata/fake-<name>. mode "fail:CMD" makes the
// fake fail CMD (exit 3 with a message); "crash:CMD" makes it SIGKILL its
// caller during CMD; "" is neither.
func (h *testHost) installFakeTool(name, mode string) *fakeTool {
	h.t.Helper()
	self, err := os.Executable()
	if err != nil {
		h.t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "fake-"+name))
	if err != nil {
		h.t.Fatal(err)
	}
	f := &fakeTool{name: name, dir: h.t.TempDir()}
	f.log = filepath.Join(f.dir, name+".calls")
	script := strings.NewReplacer("@REINSTALL@", self, "@ROOT@", h.Root, "@ARGV_LOG@", f.log, "@MODE@", mode).Replace(string(src))
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(script), 0o755); err != nil {
		h.t.Fatal(err)
	}
	return f
}

// env puts the fake first on PATH.
func (f *fakeTool) env() []string {
	return []string{"PATH=" + f.dir + ":" + os.Getenv("PATH")}
}

// calls returns every recorded call's argv, in order.
func (f *fakeTool) calls(t *testing.T) [][]string {
	t.Helper()
	data, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, rec := range bytes.Split(data, []byte("\x00\n")) {
		if len(rec) == 0 {
			continue
		}
		calls = append(calls, strings.Split(string(rec), "\x00"))
	}
	return calls
}

// split returns the status calls and, in order, every other call.
func split(calls [][]string) (status, others [][]string) {
	for _, c := range calls {
		if slices.Contains(c, "status") {
			status = append(status, c)
		} else {
			others = append(others, c)
		}
	}
	return status, others
}

// writeToolPipeline writes examples/pipelines/contract.hcl (the stock
// stages without the extra configure stages, so that the tool calls a run
// makes stay fixed) with setting as the pipeline block's first line.
func writeToolPipeline(t *testing.T, h *testHost, setting string) string {
	t.Helper()
	const open = "pipeline \"contract\" {\n"
	src := readFile(t, example(t, "contract.hcl"))
	if !strings.Contains(src, open) {
		t.Fatalf("%s has no %q line", example(t, "contract.hcl"), open)
	}
	p := h.Path("etc/vz/tool.hcl")
	if err := os.WriteFile(p, []byte(strings.Replace(src, open, open+"  "+setting+"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestToolRuntimeReinstall runs a whole custom-mode reinstall of a running
// container with --stop through each fake tool, chosen once by the
// pipeline's runtime setting and once by --runtime, and checks the exact
// argv of every call, and that the container really restarted and
// vps.configure really ran through the tool's exec with the contract's
// environment and stdin. Named under --root, the tool draws one warning
// that it acts on the real host's containers.
func TestToolRuntimeReinstall(t *testing.T) {
	t.Parallel()
	configureLine := "exec env -i -- HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SHELL=/bin/sh VEID=101 /bin/sh"
	tests := []struct {
		tool, setting string
		flags         []string
		wantStatus    []string
		wantOthers    [][]string
	}{
		{
			tool: "vzctl", setting: `runtime = "vzctl"`,
			wantStatus: []string{"vzctl", "status", "101"},
			wantOthers: [][]string{
				{"vzctl", "--skiplock", "stop", "101"},
				{"vzctl", "--skiplock", "start", "101"},
				{"vzctl", "--quiet", "exec2", "101", configureLine},
			},
		},
		{
			tool: "prlctl", flags: []string{"--runtime", "prlctl"},
			wantStatus: []string{"prlctl", "status", "101"},
			wantOthers: [][]string{
				{"prlctl", "stop", "101"},
				{"prlctl", "start", "101"},
				{"prlctl", "exec", "101", configureLine},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.mustCLI("ct", "start", "101")
			h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 0"), 0o755)
			h.writeScript("vps.configure", recordingConfigure+"cat > /configure-stdin-rest\n", 0o644)
			fake := h.installFakeTool(tt.tool, "")
			args := append(append([]string{}, tt.flags...), "--pipeline", writeToolPipeline(t, h, tt.setting), "--stop", "101")
			r := h.cliEnv(fake.env(), args...)
			if r.code != 0 {
				t.Fatalf("reinstall through %s: exit %d\n%s", tt.tool, r.code, r.stderr)
			}
			warning := "runtime " + tt.tool + " acts on the real host's containers, not on those under the host root " + h.Root
			if n := strings.Count(r.stderr, warning); n != 1 {
				t.Errorf("stderr has the warning %q %d times, want once:\n%s", warning, n, r.stderr)
			}
			status, others := split(fake.calls(t))
			if d := cmp.Diff(tt.wantOthers, others); d != "" {
				t.Errorf("%s calls besides status (-want +got):\n%s", tt.tool, d)
			}
			if len(status) == 0 {
				t.Errorf("%s status was never called", tt.tool)
			}
			for _, c := range status {
				if d := cmp.Diff(tt.wantStatus, c); d != "" {
					t.Errorf("%s status call (-want +got):\n%s", tt.tool, d)
				}
			}
			wantEnv := []string{"HOME=/", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh", "VEID=101"}
			if d := cmp.Diff(wantEnv, sortedLines(readFile(t, h.private("configure-env")))); d != "" {
				t.Errorf("vps.configure environment through %s (-want +got):\n%s", tt.tool, d)
			}
			// The script was read from stdin to its end: nothing was left over.
			if got := readFile(t, h.private("configure-stdin-rest")); got != "" {
				t.Errorf("vps.configure stdin left %q", got)
			}
			if got := readFile(t, h.private("configure-hostname")); got != "ct101.example\n" {
				t.Errorf("vps.configure ran with hostname %q, not inside the container", got)
			}
			if got := h.status(); got != "running" {
				t.Errorf("status after reinstall = %q, want running", got)
			}
			h.assertClean()
		})
	}
}

// TestToolRuntimeCT drives ct start, status, exec and stop through each fake
// with --runtime and checks each call's exact argv and the exit code
// passthrough of exec.
func TestToolRuntimeCT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool                   string
		start, stop, exec, sts []string
	}{
		{
			tool:  "vzctl",
			start: []string{"vzctl", "--skiplock", "start", "101"},
			stop:  []string{"vzctl", "--skiplock", "stop", "101"},
			exec:  []string{"vzctl", "--quiet", "exec2", "101"},
			sts:   []string{"vzctl", "status", "101"},
		},
		{
			tool:  "prlctl",
			start: []string{"prlctl", "start", "101"},
			stop:  []string{"prlctl", "stop", "101"},
			exec:  []string{"prlctl", "exec", "101"},
			sts:   []string{"prlctl", "status", "101"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			fake := h.installFakeTool(tt.tool, "")
			rt := []string{"--runtime", tt.tool}
			h.mustRun(fake.env(), append(rt, "ct", "start", "101")...)
			if r := h.mustRun(fake.env(), append(rt, "ct", "status", "101")...); r.stdout != "running\n" {
				t.Errorf("ct status through %s = %q, want running", tt.tool, r.stdout)
			}
			if got := h.status(); got != "running" {
				t.Errorf("native status after a start through %s = %q", tt.tool, got)
			}
			r := h.cliEnv(fake.env(), append(rt, "ct", "exec", "101", "--", "/bin/sh", "-c", `echo "it's $HOME"; exit 7`)...)
			if r.code != 7 || r.stdout != "it's /\n" {
				t.Errorf("ct exec through %s: exit %d, stdout %q; want exit 7 and \"it's /\"", tt.tool, r.code, r.stdout)
			}
			h.mustRun(fake.env(), append(rt, "ct", "stop", "101")...)
			if got := h.status(); got != "stopped" {
				t.Errorf("status after a stop through %s = %q", tt.tool, got)
			}
			calls := fake.calls(t)
			status, others := split(calls)
			for _, c := range status {
				if d := cmp.Diff(tt.sts, c); d != "" {
					t.Errorf("status call (-want +got):\n%s", d)
				}
			}
			want := [][]string{tt.start, tt.exec, tt.stop}
			got := [][]string{}
			for _, c := range others {
				if i := slices.IndexFunc(c, func(a string) bool { return a == "exec2" || a == "exec" }); i > 0 && len(c) > i+2 {
					c = c[:i+2] // the command line differs only in its env; checked below
				}
				got = append(got, c)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s calls (-want +got):\n%s", tt.tool, d)
			}
			// ct exec's environment, quoted, then the argv.
			line := others[1][len(others[1])-1]
			wantLine := "exec env -i -- HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SHELL=/bin/sh TERM=" + termForTest() + ` /bin/sh -c 'echo "it'\''s $HOME"; exit 7'`
			if line != wantLine {
				t.Errorf("exec command line = %q, want %q", line, wantLine)
			}
		})
	}
}

func termForTest() string {
	if t := os.Getenv("TERM"); t != "" {
		return t
	}
	return "dumb"
}

// TestToolRuntimeAutoDetection: under a --root other than "/", "auto" is
// native even with vzctl and prlctl on PATH (they would act on the real
// host's containers): plan says native, a reinstall with --stop and a ct
// command run through native, the debug log says why, and neither tool is
// ever called. (The order vzctl, prlctl, native on the real host is
// TestSelectorResolve's, in internal/runtime.)
func TestToolRuntimeAutoDetection(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	vzctl := h.installFakeTool("vzctl", "")
	prlctl := h.installFakeTool("prlctl", "")
	env := []string{"PATH=" + vzctl.dir + ":" + prlctl.dir + ":" + os.Getenv("PATH")}
	file := writeToolPipeline(t, h, "")
	r := h.cliEnv(env, "plan", "--json", "--pipeline", file, "101")
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	var plan engine.RunPlan
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Runtime != "native" {
		t.Errorf("plan runtime under --root with vzctl on PATH = %q, want native", plan.Runtime)
	}

	h.mustRun(env, "ct", "start", "101")
	r = h.cliEnv(env, "--log-level", "debug", "--pipeline", file, "--stop", "101")
	if r.code != 0 {
		t.Fatalf("reinstall with auto under --root: exit %d\n%s", r.code, r.stderr)
	}
	why := `runtime auto: native, as the host root ` + h.Root + ` is not "/"`
	if !strings.Contains(r.stderr, why) {
		t.Errorf("the debug log does not say %q:\n%s", why, r.stderr)
	}
	if strings.Contains(r.stderr, "acts on the real host's containers, not on") {
		t.Errorf("auto warned of a tool it did not use:\n%s", r.stderr)
	}
	if r := h.mustRun(env, "ct", "status", "101"); r.stdout != "running\n" {
		t.Errorf("ct status through auto = %q, want running (restarted by the run)", r.stdout)
	}
	for _, f := range []*fakeTool{vzctl, prlctl} {
		if calls := f.calls(t); len(calls) != 0 {
			t.Errorf("auto under --root called the host's %s: %q", f.name, calls)
		}
	}
	h.assertClean()
}

// TestToolRuntimeRecoverUsesJournaledRuntime: a run through vzctl dies
// (SIGKILL) while vps.configure runs through vzctl exec2, after the swap;
// recover with --runtime native still goes through vzctl, the runtime the
// journal recorded, and rolls back.
func TestToolRuntimeRecoverUsesJournaledRuntime(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), "exit 0"), 0o755)
	h.writeScript("vps.configure", "echo configured\n", 0o644)
	fake := h.installFakeTool("vzctl", "crash:exec2")
	r := h.cliEnv(fake.env(), "--runtime", "vzctl", "--pipeline", writeToolPipeline(t, h, ""), "101")
	if r.code == 0 {
		t.Fatalf("the crashed run exited 0:\n%s", r.stderr)
	}
	hdr := journalHeader(t, h)
	if hdr.Runtime != "vzctl" {
		t.Fatalf("journal header runtime = %q, want vzctl", hdr.Runtime)
	}
	fake = h.installFakeTool("vzctl", "")
	out := h.cliEnv(fake.env(), "--runtime", "native", "recover", "101")
	if out.code != 0 {
		t.Fatalf("recover: exit %d\n%s", out.code, out.stderr)
	}
	calls := fake.calls(t)
	if !slices.ContainsFunc(calls, func(c []string) bool { return slices.Equal(c, []string{"vzctl", "--skiplock", "stop", "101"}) }) {
		t.Errorf("recover did not stop the started container through vzctl, the journaled runtime; calls: %q", calls)
	}
	if got := h.status(); got != "stopped" {
		t.Errorf("status after the rollback = %q, want stopped (as before the run)", got)
	}
	assertTree(t, "the rolled-back private area", before, h.tree(""))
	h.assertClean()
}

// journalHeader reads the header of container 101's journal.
func journalHeader(t *testing.T, h *testHost) *journal.Header {
	t.Helper()
	matches, _ := filepath.Glob(h.Path("vz/lock/101.journal"))
	if len(matches) != 1 {
		t.Fatalf("no journal left by the crashed run")
	}
	records, err := journal.Read(matches[0])
	if err != nil || len(records) == 0 || records[0].Header == nil {
		t.Fatalf("journal: %v, %d records", err, len(records))
	}
	return records[0].Header
}
