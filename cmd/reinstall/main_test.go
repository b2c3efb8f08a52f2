package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/plugins"
)

// TestMain lets the test binary be the reinstall binary: the CLI when
// REINSTALL_TEST_CLI is set, and the hidden entry points (plugins, the
// container monitor, init and enter) that it re-executes itself for.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__plugin":
			os.Exit(plugins.Serve(os.Args[2]))
		case "__ctmon":
			os.Exit(runtime.MonitorMain(os.Args[2:]))
		case "__ctinit":
			os.Exit(runtime.InitMain(os.Args[2:]))
		case "__ctenter":
			os.Exit(runtime.EnterMain(os.Args[2:]))
		}
	}
	if os.Getenv("REINSTALL_TEST_CLI") == "1" {
		os.Exit(execute(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testHost is a demo host under a temporary --root with container 101.
type testHost struct {
	*testenv.Host
	t *testing.T
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("these tests need root (namespaces, mounts); run them as root")
	}
	root, err := os.MkdirTemp("", "ri-")
	if err != nil {
		t.Fatal(err)
	}
	h, err := testenv.NewHost(root)
	if err != nil {
		t.Fatal(err)
	}
	th := &testHost{Host: h, t: t}
	t.Cleanup(func() {
		// Through the runtime itself: `ct stop` refuses a container whose
		// reinstall a test left unfinished.
		runtime.NewNative(h.Path("run/reinstall/ct"), os.Args[0]).Stop(context.Background(), 101, 3*time.Second)
		if m, _ := testenv.Mounts(root); len(m) > 0 {
			t.Errorf("mounts left under the root: %v", m)
		}
		os.RemoveAll(root)
	})
	return th
}

// result is what one CLI invocation did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	return lines[len(lines)-1]
}

// cli runs the reinstall CLI (this test binary) against the host's root.
func (h *testHost) cli(args ...string) result {
	return h.cliStdin("", args...)
}

func (h *testHost) cliStdin(stdin string, args ...string) result {
	h.t.Helper()
	return h.run(stdin, nil, args...)
}

// cliEnv runs the CLI with extra environment variables.
func (h *testHost) cliEnv(env []string, args ...string) result {
	h.t.Helper()
	return h.run("", env, args...)
}

func (h *testHost) run(stdin string, env []string, args ...string) result {
	h.t.Helper()
	full := append([]string{"--root", h.Root, "--stop-timeout", "3s"}, args...)
	cmd := exec.Command(os.Args[0], full...)
	cmd.Env = append(append(os.Environ(), "REINSTALL_TEST_CLI=1"), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	if os.Getenv("REINSTALL_TEST_TIMING") != "" {
		h.t.Logf("%v: %s", args, time.Since(began))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode() // -1 when killed by a signal
	} else if err != nil {
		h.t.Fatalf("run reinstall %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func (h *testHost) mustCLI(args ...string) result {
	h.t.Helper()
	r := h.cli(args...)
	if r.code != 0 {
		h.t.Fatalf("reinstall %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// createCT makes container 101 with the fast test init and customer files.
func (h *testHost) createCT() {
	h.t.Helper()
	if err := h.WriteConfig(101, testenv.ConfigBody("ct101.example")); err != nil {
		h.t.Fatal(err)
	}
	h.mustCLI("ct", "create", "101", "--ostemplate", testenv.DefaultTemplate)
	h.writePrivate("home/customer/notes.txt", "precious data\n", 0o600)
	h.writePrivate("etc/broken.conf", "broken\n", 0o644)
	if err := os.Chown(h.private("home/customer/notes.txt"), 1000, 1000); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", h.private("home/customer/link")); err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHost) private(rel string) string { return h.Path(filepath.Join("vz/private/101", rel)) }

func (h *testHost) writePrivate(rel, content string, mode os.FileMode) {
	h.t.Helper()
	p := h.private(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHost) tree(rel string) testenv.Tree {
	h.t.Helper()
	tree, err := testenv.HashTree(h.private(rel))
	if err != nil {
		h.t.Fatal(err)
	}
	return tree
}

// writeScript installs /etc/vz/conf/<name> with the given body and mode.
func (h *testHost) writeScript(name, body string, mode os.FileMode) {
	h.t.Helper()
	p := h.Path("etc/vz/conf/" + name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHost) status() string {
	h.t.Helper()
	return strings.TrimSpace(h.mustCLI("ct", "status", "101").stdout)
}

// exec runs a shell command inside container 101 and returns its stdout.
func (h *testHost) exec(script string) string {
	h.t.Helper()
	return h.mustCLI("ct", "exec", "101", "--", "/bin/sh", "-c", script).stdout
}

// assertClean checks nothing of a run is left: no temporary, parked or
// trash area, no journal, no lock.
func (h *testHost) assertClean() {
	h.t.Helper()
	leftovers, _ := filepath.Glob(h.Path("vz/private/101.*"))
	if len(leftovers) > 0 {
		h.t.Errorf("left on disk: %v", leftovers)
	}
	for _, f := range []string{"vz/lock/101.lck", "vz/lock/101.journal"} {
		if _, err := os.Lstat(h.Path(f)); err == nil {
			h.t.Errorf("%s left behind", f)
		}
	}
}

func assertTree(t *testing.T, what string, want, got testenv.Tree) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", what, d)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
