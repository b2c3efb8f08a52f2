//go:build linux

package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// TestMain serves the hidden entry points from the test binary, as
// cmd/reinstall's main does, plus "__teststart" (Start from a child process).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__ctmon":
			os.Exit(MonitorMain(os.Args[2:]))
		case "__ctinit":
			os.Exit(InitMain(os.Args[2:]))
		case "__ctenter":
			os.Exit(EnterMain(os.Args[2:]))
		case "__teststart":
			os.Exit(testStartMain(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// testStartMain starts a container and exits: "__teststart RUNDIR SPEC".
func testStartMain(args []string) int {
	var s Spec
	if err := json.Unmarshal([]byte(args[1]), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := NewNative(args[0], selfExe()).Start(context.Background(), s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func selfExe() string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return exe
}

const testGrace = 2 * time.Second

// testCT is one container of a test: a fresh busybox private area, its own
// state directory, stopped at cleanup.
type testCT struct {
	t    *testing.T
	rt   *Native
	spec Spec
}

func newTestCT(t *testing.T, ctid int, init string) *testCT {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	c := &testCT{t: t, rt: NewNative(filepath.Join(dir, "run"), selfExe()), spec: Spec{
		CTID:     ctid,
		Private:  filepath.Join(dir, "private"),
		Root:     filepath.Join(dir, "root"),
		Hostname: fmt.Sprintf("ct%d", ctid),
		Init:     init,
	}}
	if err := testenv.BuildRootfs(c.spec.Private, "template-name"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.rt.Stop(context.Background(), ctid, testGrace); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return c
}

func (c *testCT) start() {
	c.t.Helper()
	if err := c.rt.Start(context.Background(), c.spec); err != nil {
		c.t.Fatalf("%v\nlog:\n%s", err, c.log())
	}
}

func (c *testCT) stop() {
	c.t.Helper()
	if err := c.rt.Stop(context.Background(), c.spec.CTID, testGrace); err != nil {
		c.t.Fatal(err)
	}
}

func (c *testCT) status() State {
	c.t.Helper()
	st, err := c.rt.Status(context.Background(), c.spec.CTID)
	if err != nil {
		c.t.Fatal(err)
	}
	return st
}

func (c *testCT) log() string {
	b, _ := os.ReadFile(logPath(c.rt.runDir, c.spec.CTID))
	return string(b)
}

func (c *testCT) state() *ctState {
	c.t.Helper()
	s, err := readState(c.rt.runDir, c.spec.CTID)
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// run execs argv in the container with a plain environment and returns its
// stdout and exit code; stderr goes to the test log.
func (c *testCT) run(stdin string, argv ...string) (string, int) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := c.rt.Exec(ctx, c.spec.CTID, ExecRequest{
		Argv: argv, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		c.t.Fatalf("exec %q: %v", argv, err)
	}
	if stderr.Len() > 0 {
		c.t.Logf("exec %q stderr: %s", argv, stderr.String())
	}
	return stdout.String(), code
}

// hostMountsUnder lists the host's mount points at or below any of dirs.
func hostMountsUnder(t *testing.T, dirs ...string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		for _, d := range dirs {
			if fields[4] == d || strings.HasPrefix(fields[4], d+"/") {
				found = append(found, sc.Text())
			}
		}
	}
	return found
}

// containerProcs maps the host pids whose root is dir (compared by inode) or
// whose pid namespace is pidns to their command lines.
func containerProcs(t *testing.T, dir, pidns string) map[int]string {
	t.Helper()
	want, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fi, err := os.Stat(fmt.Sprintf("/proc/%d/root", pid))
		ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if (err == nil && os.SameFile(fi, want)) || (pidns != "" && ns == pidns) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			procs[pid] = strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
		}
	}
	return procs
}
