package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	resultSchemaOnce sync.Once
	resultSchema     *jsonschema.Schema
	resultSchemaErr  error
)

// parseResult checks that stdout is exactly one JSON object following
// docs/result.schema.json, and decodes it.
func parseResult(t *testing.T, stdout string) runResult {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("stdout is not one line:\n%s", stdout)
	}
	validateResult(t, stdout)
	var res runResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// validateResult checks that doc is a JSON object following
// docs/result.schema.json.
func validateResult(t *testing.T, doc string) {
	t.Helper()
	resultSchemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		resultSchema, resultSchemaErr = c.Compile(filepath.Join("..", "..", "docs", "result.schema.json"))
	})
	if resultSchemaErr != nil {
		t.Fatalf("docs/result.schema.json: %v", resultSchemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	if err := resultSchema.Validate(inst); err != nil {
		t.Errorf("the result does not follow docs/result.schema.json: %v\n%s", err, doc)
	}
}

// ignoreRunFields leaves out what differs from run to run.
var ignoreRunFields = cmpopts.IgnoreFields(runResult{}, "RunID", "Log", "DurationS", "Msg")

func TestOutputResult(t *testing.T) {
	t.Parallel()
	t.Run("reinstalled", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		r := h.cli("--output=result", "101")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		res := parseResult(t, r.stdout)
		want := runResult{Changed: true, RC: 0, Target: "101", CTID: 101, State: "running"}
		if d := cmp.Diff(want, res, ignoreRunFields); d != "" {
			t.Errorf("result (-want +got):\n%s", d)
		}
		if !exists(res.Log) || res.RunID == "" || res.Msg != "container 101 reinstalled; it is running" {
			t.Errorf("log %q, run id %q, msg %q", res.Log, res.RunID, res.Msg)
		}
	})
	t.Run("a stage fails", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		h.createCT()
		h.writeScript("vps.reinstall", "#!/bin/sh\nexit 7\n", 0o755)
		r := h.cli("--output=result", "101")
		res := parseResult(t, r.stdout)
		want := runResult{Failed: true, RC: 1, Reason: "stage-failed", Stage: "vps-reinstall", Target: "101", CTID: 101, State: "stopped"}
		if d := cmp.Diff(want, res, ignoreRunFields); d != "" || r.code != 1 {
			t.Errorf("exit %d; result (-want +got):\n%s", r.code, d)
		}
		if !strings.HasPrefix(res.Msg, "vps-reinstall: ") {
			t.Errorf("msg %q, want the stage's error", res.Msg)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		r := h.cli("--output=result", "4242")
		res := parseResult(t, r.stdout)
		if r.code != 2 || res.RC != 2 || !res.Failed || res.Changed || res.Reason != "unknown-container" || res.Stage != "preflight" {
			t.Errorf("exit %d, result %+v", r.code, res)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		t.Parallel()
		h := newTestHost(t)
		if r := h.cli("--output=yaml", "101"); r.code != 2 || r.stdout != "" {
			t.Errorf("exit %d, stdout %q", r.code, r.stdout)
		}
	})
}

// A request that reinstalled its container is recorded: the same request
// again changes nothing and returns the recorded result, changed false.
// Another request id runs.
func TestRequestIDReplay(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	first := parseResult(t, h.mustCLI("--output=result", "--request-id", "deploy-1", "101").stdout)
	if !first.Changed || first.RequestID != "deploy-1" {
		t.Fatalf("first run: %+v", first)
	}
	h.writePrivate("root/after-first", "x\n", 0o644)
	before := h.tree("")
	r := h.mustCLI("--output=result", "--request-id", "deploy-1", "101")
	again := parseResult(t, r.stdout)
	want := first
	want.Changed, want.Replayed = false, true
	if d := cmp.Diff(want, again); d != "" {
		t.Errorf("replay (-want +got):\n%s", d)
	}
	if !strings.Contains(r.stderr, `request "deploy-1" finished before`) {
		t.Errorf("stderr does not say the request was done:\n%s", r.stderr)
	}
	assertTree(t, "the private area after a replay", before, h.tree(""))
	other := parseResult(t, h.mustCLI("--output=result", "--request-id", "deploy-2", "--stop", "101").stdout)
	if !other.Changed || other.Replayed || other.RunID == first.RunID {
		t.Errorf("another request id: %+v", other)
	}
}

// A request that changed nothing (a stage failed and was rolled back) is
// not recorded: run again, it tries again.
func TestRequestIDFailureNotRecorded(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 1\n", 0o755)
	if r := h.cli("--output=result", "--request-id", "r", "101"); r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	os.Remove(h.Path("etc/vz/conf/vps.reinstall"))
	res := parseResult(t, h.mustCLI("--output=result", "--request-id", "r", "101").stdout)
	if !res.Changed || res.Replayed {
		t.Errorf("the retried request: %+v", res)
	}
}

// The same request running in another process: exit 9, reason locked.
func TestRequestIDRunningElsewhere(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	started := h.Path("hook-started")
	h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\ntouch %s\nexec sleep 60\n", started), 0o755)
	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--request-id", "r", "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hook to start", func() bool { return exists(started) })
	r := h.cli("--output=result", "--request-id", "r", "101")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	res := parseResult(t, r.stdout)
	if r.code != 9 || res.RC != 9 || res.Reason != "locked" || !strings.Contains(res.Msg, fmt.Sprintf("running in pid %d", cmd.Process.Pid)) {
		t.Errorf("exit %d, result %+v", r.code, res)
	}
	h.assertClean()
}
