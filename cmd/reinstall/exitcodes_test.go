package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// The test binary doubles as the external plugin "flaky" (when
// envFlakyPlugin is set): a configure and backup-retention stage whose Run
// fails while the file fail_while exists, and whose Rollback fails while
// rollback_fail_while exists. It logs a debug and a trace line.
const envFlakyPlugin = "REINSTALL_TEST_FLAKY_PLUGIN"

func init() {
	if os.Getenv(envFlakyPlugin) != "" {
		sdk.Serve(&sdk.Plugin{Name: "flaky", Version: "0.0.1",
			Stages: map[string]sdk.Stage{sdk.KindConfigure: flakyStage{}, sdk.KindBackupRetention: flakyStage{}}})
		os.Exit(0)
	}
}

type flakyStage struct{}

type flakyConfig struct {
	FailWhile         string `hcl:"fail_while,optional" description:"Run fails while this file exists"`
	RollbackFailWhile string `hcl:"rollback_fail_while,optional" description:"Rollback fails while this file exists"`
}

func (flakyStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(flakyConfig{}) }

func (flakyStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (flakyStage) Run(_ context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c flakyConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	req.UI.Log(sdk.LevelDebug, "flaky: a debug line")
	req.UI.Log(sdk.LevelTrace, "flaky: a trace line")
	if c.FailWhile != "" && exists(c.FailWhile) {
		return nil, fmt.Errorf("flaky: failing while %s exists", c.FailWhile)
	}
	return &sdk.Result{}, nil
}

func (flakyStage) Rollback(_ context.Context, req *sdk.RollbackRequest) error {
	var c flakyConfig
	if err := req.Config.Decode(&c); err != nil {
		return err
	}
	if c.RollbackFailWhile != "" && exists(c.RollbackFailWhile) {
		return fmt.Errorf("flaky: rollback failing while %s exists", c.RollbackFailWhile)
	}
	return nil
}

// flakyPipeline installs the flaky plugin and returns the environment that
// finds it and a pipeline file: the default stages, with the flaky stage
// (its body given) as the last configure stage, or after retention.
func (h *testHost) flakyPipeline(kind, body string) (env []string, file string) {
	h.t.Helper()
	dir := h.Path("plugin-dir")
	installPlugin(h.t, dir, "flaky", fmt.Appendf(nil, "#!/bin/sh\nexec env %s=1 %s\n", envFlakyPlugin, os.Args[0]), 0o755)
	stage := fmt.Sprintf("stage %q \"flaky\" {\n    plugin = \"flaky\"\n    %s\n  }", kind, body)
	configure, retention := stage, ""
	if kind == sdk.KindBackupRetention {
		configure, retention = "", stage
	}
	file = h.writePipelineFile("flaky.hcl", fmt.Sprintf(`pipeline "flaky" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  %s
  stage "backup-retention" "retention" {}
  %s
}
`, configure, retention))
	return []string{"REINSTALL_PLUGIN_DIR=" + dir}, file
}

// exitCase produces one exit code and reason by a real run (with --json).
type exitCase struct {
	name   string
	run    func(t *testing.T, h *testHost) result
	code   int
	reason string // "" for success
	stage  string // the stage the error names, "" for none
}

// Every exit code of the contract's table and every reason README's
// "Exit codes" documents comes out of a real run, in the JSON error event
// and as the process's exit code.
func TestExitCodesAndReasons(t *testing.T) {
	t.Parallel()
	cases := []exitCase{
		{"reinstalled", func(t *testing.T, h *testHost) result { return h.cli("--json", "101") }, 0, "", ""},
		{"script fails", func(t *testing.T, h *testHost) result {
			h.writeScript("vps.reinstall", "#!/bin/sh\nexit 3\n", 0o755)
			return h.cli("--json", "101")
		}, 1, engine.ReasonStageFailed, "vps-reinstall"},
		{"plugin crashes", func(t *testing.T, h *testHost) result {
			dir := h.Path("plugin-dir")
			installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
			file := h.writePipelineFile("crashy.hcl", crashyPipeline("reinstall-hook", `    mode = "exit"`))
			return h.cliEnv([]string{"REINSTALL_PLUGIN_DIR=" + dir}, "--json", "--pipeline", file, "101")
		}, 1, engine.ReasonPluginFailed, "activate"},
		{"stage times out", func(t *testing.T, h *testHost) result {
			h.writeScript("vps.reinstall", "#!/bin/sh\nexec sleep 60\n", 0o755)
			file := h.writePipelineFile("timeout.hcl", `pipeline "timeout" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script  = "/etc/vz/conf/vps.reinstall"
    timeout = "1s"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "backup-retention" "retention" {}
}
`)
			return h.cli("--json", "--pipeline", file, "101")
		}, 1, engine.ReasonTimeout, "vps-reinstall"},
		{"interrupted", func(t *testing.T, h *testHost) result { return h.cliInterrupted("--json", "101") },
			1, engine.ReasonInterrupted, "vps-reinstall"},
		{"unknown flag", func(t *testing.T, h *testHost) result { return h.cli("--json", "--no-such-flag", "101") },
			2, engine.ReasonUsage, ""},
		{"invalid CTID", func(t *testing.T, h *testHost) result { return h.cli("--json", "--", "0101") },
			2, engine.ReasonUsage, "preflight"},
		{"unknown container", func(t *testing.T, h *testHost) result { return h.cli("--json", "999") },
			2, engine.ReasonUnknownContainer, "preflight"},
		{"unparsable container config", func(t *testing.T, h *testHost) result {
			h.WriteConfig(101, "OSTEMPLATE=busybox\nHOSTNAME=\"unterminated\n")
			return h.cli("--json", "101")
		}, 2, engine.ReasonConfigInvalid, "preflight"},
		{"invalid pipeline", func(t *testing.T, h *testHost) result {
			file := h.writePipelineFile("bad.hcl", "pipeline \"x\" {\n  stage \"provison\" \"p\" {}\n}\n")
			return h.cli("--json", "--pipeline", file, "101")
		}, 2, engine.ReasonPipelineInvalid, "preflight"},
		{"private area missing", func(t *testing.T, h *testHost) result {
			if err := os.RemoveAll(h.private("")); err != nil {
				t.Fatal(err)
			}
			return h.cli("--json", "101")
		}, 2, engine.ReasonPrivateMissing, "preflight"},
		{"private area is a symlink", func(t *testing.T, h *testHost) result {
			p := h.private("")
			if err := os.Rename(p, p+"-real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p+"-real", p); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(p); os.Rename(p+"-real", p) })
			return h.cli("--json", "101")
		}, 2, engine.ReasonPrivateSymlink, "preflight"},
		{"mount inside the private area", func(t *testing.T, h *testHost) result {
			dir := h.private("mnt")
			os.MkdirAll(dir, 0o755)
			if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
			return h.cli("--json", "101")
		}, 2, engine.ReasonMountInside, "preflight"},
		{"template missing", func(t *testing.T, h *testHost) result {
			h.WriteConfig(101, "OSTEMPLATE=nosuch-template\nINIT=/sbin/test-init\n")
			return h.cli("--json", "101")
		}, 2, engine.ReasonTemplateMissing, "preflight"},
		{"leftover temporary area", func(t *testing.T, h *testHost) result {
			os.Mkdir(h.Path("vz/private/101.reinstall"), 0o700)
			t.Cleanup(func() { os.Remove(h.Path("vz/private/101.reinstall")) })
			return h.cli("--json", "101")
		}, 2, engine.ReasonLeftovers, "preflight"},
		{"ploop image", func(t *testing.T, h *testHost) result {
			h.WriteConfig(101, "OSTEMPLATE=busybox\nINIT=/sbin/test-init\nVE_LAYOUT=ploop\n")
			return h.cli("--json", "101")
		}, 2, engine.ReasonPloop, "preflight"},
		{"unknown --scripts name", func(t *testing.T, h *testHost) result {
			return h.cli("--json", "--scripts", "nosuch.sh", "101")
		}, 2, engine.ReasonUsage, "preflight"},
		{"plugin socket directory unusable", func(t *testing.T, h *testHost) result {
			p := h.Path("run/reinstall/plugins")
			os.RemoveAll(p)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return h.cli("--json", "101")
		}, 2, engine.ReasonRefused, "preflight"},
		{"unfinished journal", func(t *testing.T, h *testHost) result {
			os.WriteFile(h.Path("vz/lock/101.journal"), []byte("{}\n"), 0o600)
			t.Cleanup(func() { os.Remove(h.Path("vz/lock/101.journal")) })
			return h.cli("--json", "101")
		}, 3, engine.ReasonJournalUnfinished, "preflight"},
		{"rollback fails", func(t *testing.T, h *testHost) result {
			// A failed rollback whose work no other stage discards.
			dir := h.Path("plugin-dir")
			installPlugin(t, dir, "crashy", crashyWrapper("serve", newTag(t)), 0o755)
			env := []string{"REINSTALL_PLUGIN_DIR=" + dir}
			r := h.cliEnv(env, "--json", "--pipeline", h.writePipelineFile("stuck.hcl", stuckPipeline), "101")
			t.Cleanup(func() {
				if r := h.cliEnv(env, "recover", "--skip-rollback", "activate", "101"); r.code != 0 {
					t.Errorf("recover --skip-rollback activate: exit %d\n%s", r.code, r.stderr)
				}
				os.RemoveAll(h.private("") + ".reinstall")
				h.assertClean()
			})
			return r
		}, 3, engine.ReasonRollbackFailed, "activate"},
		{"failure past the point of no return", func(t *testing.T, h *testHost) result {
			marker := h.Path("flaky-fail")
			os.WriteFile(marker, nil, 0o600)
			env, file := h.flakyPipeline(sdk.KindBackupRetention, fmt.Sprintf("fail_while = %q", marker))
			r := h.cliEnv(env, "--json", "--pipeline", file, "101")
			t.Cleanup(func() { h.recoverAfter(env, marker, engine.RecoveredForward) })
			return r
		}, 3, engine.ReasonRecoverNeeded, "flaky"},
		{"recover cannot finish", func(t *testing.T, h *testHost) result {
			marker := h.Path("flaky-fail")
			os.WriteFile(marker, nil, 0o600)
			env, file := h.flakyPipeline(sdk.KindBackupRetention, fmt.Sprintf("fail_while = %q", marker))
			if r := h.cliEnv(env, "--pipeline", file, "101"); r.code != 3 {
				t.Fatalf("exit %d, want 3 to leave a run to recover\n%s", r.code, r.stderr)
			}
			t.Cleanup(func() { h.recoverAfter(env, marker, engine.RecoveredForward) })
			return h.cliEnv(env, "recover", "--json", "101")
		}, 3, engine.ReasonRecoverFailed, "recover"},
		{"locked", func(t *testing.T, h *testHost) result {
			h.holdLock(t)
			return h.cli("--json", "101")
		}, 9, engine.ReasonLocked, "preflight"},
		{"recover while locked", func(t *testing.T, h *testHost) result {
			h.holdLock(t)
			return h.cli("recover", "--json", "101")
		}, 9, engine.ReasonLocked, "recover"},
		{"recover with nothing to do", func(t *testing.T, h *testHost) result { return h.cli("recover", "--json", "101") }, 0, "", ""},
		{"running without --stop", func(t *testing.T, h *testHost) result {
			h.mustCLI("ct", "start", "101")
			return h.cli("--json", "101")
		}, 32, engine.ReasonRunning, "preflight"},
	}
	documented := documentedReasons(t)
	var produced []string
	for _, tc := range cases {
		if tc.reason != "" && !slices.Contains(produced, tc.reason) {
			produced = append(produced, tc.reason)
		}
	}
	slices.Sort(produced)
	if !slices.Equal(documented, produced) {
		t.Errorf("README documents reasons %v, this test produces %v", documented, produced)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			r := tc.run(t, h)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			events := parseEvents(t, r.stdout)
			end := events[len(events)-1]
			if end.Type != engine.EventRunFinished || end.ExitCode == nil || *end.ExitCode != tc.code {
				t.Errorf("last event %+v, want run-finished with exit %d", end, tc.code)
			}
			if tc.code == 0 {
				return
			}
			e := lastOf(t, events, engine.EventError)
			if e.Reason != tc.reason || e.Stage != tc.stage || *e.ExitCode != tc.code {
				t.Errorf("error event: reason %q, stage %q, exit %d; want %q, %q, %d\n%s", e.Reason, e.Stage, *e.ExitCode, tc.reason, tc.stage, tc.code, r.stderr)
			}
			if want := "reinstall: " + tc.stage; tc.stage != "" && !strings.HasPrefix(r.lastLine(), want+": ") {
				t.Errorf("last stderr line %q, want prefix %q", r.lastLine(), want+": ")
			}
		})
	}
}

// documentedReasons are the reason slugs of README's "### Exit codes" table.
func documentedReasons(t *testing.T) []string {
	t.Helper()
	readme := readFile(t, filepath.Join("..", "..", "README.md"))
	_, section, ok := strings.Cut(readme, "### Exit codes\n")
	if !ok {
		t.Fatal(`README has no "### Exit codes" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	var reasons []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(cells[2], -1) {
			reasons = append(reasons, m[1])
		}
	}
	slices.Sort(reasons)
	if len(reasons) == 0 {
		t.Fatal(`README's "### Exit codes" table names no reason`)
	}
	return reasons
}

// The reasons the schema allows are the documented ones.
func TestSchemaReasonsAreDocumented(t *testing.T) {
	var doc struct {
		Defs struct {
			Reason struct {
				Enum []string `json:"enum"`
			} `json:"reason"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join("..", "..", "docs", "events.schema.json"))), &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(doc.Defs.Reason.Enum))
	if want := documentedReasons(t); !slices.Equal(want, got) {
		t.Errorf("docs/events.schema.json allows reasons %v, README documents %v", got, want)
	}
}

// holdLock makes a live process (sleep) the holder of 101's lock, as
// vzctl's lock files say it: the pid alone.
func (h *testHost) holdLock(t *testing.T) {
	t.Helper()
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait(); os.Remove(h.Path("vz/lock/101.lck")) })
	if err := os.WriteFile(h.Path("vz/lock/101.lck"), fmt.Appendf(nil, "%d\n", sleep.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}
}

// recoverAfter lets the flaky plugin succeed and recovers the interrupted
// run, which must end as want says and leave nothing behind.
func (h *testHost) recoverAfter(env []string, marker, want string) {
	h.t.Helper()
	os.Remove(marker)
	r := h.cliEnv(env, "recover", "101")
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		h.t.Errorf("recover: exit %d, %q, want %q\n%s", r.code, r.stdout, want, r.stderr)
	}
	h.assertClean()
}

// cliInterrupted runs the CLI with a vps.reinstall that waits, and sends it
// SIGINT once the script runs.
func (h *testHost) cliInterrupted(args ...string) result {
	h.t.Helper()
	started := h.Path("hook-started")
	h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\ntouch %s\nexec sleep 60\n", started), 0o755)
	cmd := exec.Command(os.Args[0], append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	waitFor(h.t, "the hook to start", func() bool { return exists(started) })
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		h.t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}
