package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// createCTs makes stopped containers with the given ids beside 101.
func (h *testHost) createCTs(ids ...int) {
	h.t.Helper()
	for _, id := range ids {
		if err := h.WriteConfig(id, testenv.ConfigBody(fmt.Sprintf("ct%d.example", id))); err != nil {
			h.t.Fatal(err)
		}
		h.mustCLI("ct", "create", fmt.Sprint(id), "--ostemplate", testenv.DefaultTemplate)
		if err := os.WriteFile(h.Path(fmt.Sprintf("vz/private/%d/root/mine", id)), []byte(fmt.Sprint(id)), 0o600); err != nil {
			h.t.Fatal(err)
		}
	}
	h.t.Cleanup(func() {
		for _, id := range ids {
			h.cli("ct", "stop", fmt.Sprint(id))
		}
	})
}

func (h *testHost) treeOf(ctid int) testenv.Tree {
	h.t.Helper()
	tree, err := testenv.HashTree(h.Path(fmt.Sprintf("vz/private/%d", ctid)))
	if err != nil {
		h.t.Fatal(err)
	}
	return tree
}

// Several containers in one command: each is reinstalled on its own, a
// failing one is rolled back and stops none of the others, and the exit
// code and the result say what each did.
func TestReinstallSeveral(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCTs(101, 102, 103)
	h.writeScript("vps.reinstall", "#!/bin/sh\n[ \"$VEID\" = 102 ] && exit 5\nexit 128\n", 0o755)
	before := h.treeOf(102)
	r := h.cli("--output=result", "--parallel", "2", "101", "102", "103")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	res := parseResult(t, r.stdout)
	var got []string
	for _, c := range res.Results {
		got = append(got, fmt.Sprintf("%s %d %d %v %s", c.Target, c.CTID, c.RC, c.Changed, c.Reason))
	}
	want := []string{"101 101 0 true ", "102 102 1 false stage-failed", "103 103 0 true "}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	if !res.Changed || !res.Failed || res.RC != 1 || res.Reason != "stage-failed" || res.Stage != "vps-reinstall" {
		t.Errorf("summary %+v", res)
	}
	assertTree(t, "102, rolled back", before, h.treeOf(102))
	for _, id := range []int{101, 103} {
		if !exists(h.Path(fmt.Sprintf("vz/private/%d/old/root/mine", id))) {
			t.Errorf("%d was not reinstalled", id)
		}
	}
	for _, line := range []string{"reinstall 102: [2/", "reinstall 102: vps-reinstall: ", "reinstall 101: reinstalled in"} {
		if !strings.Contains(r.stderr, line) {
			t.Errorf("stderr has no %q:\n%s", line, r.stderr)
		}
	}
	if last := r.lastLine(); !strings.HasPrefix(last, "reinstall: 2 of 3 containers reinstalled; failed: 102 (exit 1, stage-failed)") {
		t.Errorf("last line %q", last)
	}
}

// --json over several containers, one given by its name: every line is
// an event of the schema, and each carries the CTID of its run.
func TestReinstallSeveralJSON(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCTs(101, 102)
	if err := os.Symlink("../conf/102.conf", h.Path("etc/vz/names/web2")); err != nil {
		t.Fatal(err)
	}
	r := h.cli("--json", "--parallel", "2", "101", "web2")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	events := parseEvents(t, r.stdout)
	finished := map[int]int{}
	for _, ev := range events {
		if ev.CTID != 101 && ev.CTID != 102 {
			t.Errorf("event without the CTID of its run: %+v", ev)
		}
		if ev.Type == "run-finished" {
			finished[ev.CTID]++
		}
	}
	if d := cmp.Diff(map[int]int{101: 1, 102: 1}, finished); d != "" {
		t.Errorf("run-finished per container (-want +got):\n%s", d)
	}
}

// The exit code of several runs is the most serious of theirs.
func TestSumResultsExitCode(t *testing.T) {
	for _, tc := range []struct {
		rcs  []int
		want int
	}{
		{[]int{0, 0}, 0},
		{[]int{0, 2}, 2},
		{[]int{2, 32}, 32},
		{[]int{32, 9, 2}, 9},
		{[]int{9, 1, 0}, 1},
		{[]int{1, 3, 9}, 3},
	} {
		var rs []runResult
		for i, rc := range tc.rcs {
			rs = append(rs, runResult{RC: rc, Target: fmt.Sprint(101 + i)})
		}
		if got := sumResults(rs, time.Second); got.RC != tc.want || got.Failed != (tc.want != 0) {
			t.Errorf("rcs %v: rc %d failed %v, want %d", tc.rcs, got.RC, got.Failed, tc.want)
		}
	}
}

// SIGTERM or SIGINT (what Ansible, Nomad and systemd send on cancel) to a
// command over several containers rolls every run back and ends with exit
// 1; runs not yet started are not started.
func TestReinstallSeveralInterrupted(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCTs(101, 102, 103)
			rec := h.Path("record")
			os.Mkdir(rec, 0o755)
			h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\ntouch %s/$VEID\nexec sleep 60\n", rec), 0o755)
			trees := map[int]testenv.Tree{101: h.treeOf(101), 102: h.treeOf(102), 103: h.treeOf(103)}
			cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--parallel", "2", "--output=result", "101", "102", "103")
			cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "both hooks to start", func() bool {
				m, _ := filepath.Glob(filepath.Join(rec, "*"))
				return len(m) == 2
			})
			cmd.Process.Signal(sig)
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
			}
			res := parseResult(t, stdout.String())
			var got []string
			for _, c := range res.Results {
				got = append(got, fmt.Sprintf("%d rc=%d %s", c.CTID, c.RC, c.Reason))
			}
			want := []string{"101 rc=1 interrupted", "102 rc=1 interrupted", "103 rc=1 interrupted"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("results (-want +got):\n%s", d)
			}
			if exists(filepath.Join(rec, "103")) {
				t.Error("the run not yet started was started")
			}
			for id, want := range trees {
				assertTree(t, fmt.Sprintf("container %d", id), want, h.treeOf(id))
			}
			if left, _ := filepath.Glob(h.Path("vz/lock/*.lck")); len(left) > 0 {
				t.Errorf("locks left: %v", left)
			}
		})
	}
}

// The exit code of a command over several real runs is the most serious
// of theirs (3, then 1, 9, 32, 2), and the result gives each run's own.
func TestReinstallSeveralMostSeriousCode(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	// 101 reinstalls; 102's hook fails (1); 103 runs without --stop (32);
	// 104 is locked (9); 105 has an earlier run's journal (3); 4242 is no
	// container (2).
	h.createCTs(101, 102, 103, 104, 105)
	started := h.Path("105-hook")
	h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\ncase $VEID in\n102) exit 5 ;;\n105) touch %s; exec sleep 60 ;;\nesac\nexit 128\n", started), 0o755)
	h.killDuring(func() bool { return exists(started) }, "105")
	h.mustCLI("ct", "start", "103")
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	if err := os.WriteFile(h.Path("vz/lock/104.lck"), fmt.Appendf(nil, "%d\n", sleep.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}
	wantRC := map[string]int{"101": 0, "102": 1, "103": 32, "104": 9, "105": 3, "4242": 2}
	for _, tc := range []struct {
		targets []string
		want    int
	}{
		{[]string{"101", "4242"}, 2}, // 101 reinstalled: it runs now
		{[]string{"4242", "103"}, 32},
		{[]string{"103", "104", "4242"}, 9},
		{[]string{"104", "102", "103"}, 1},
		{[]string{"102", "105", "104", "4242"}, 3},
	} {
		r := h.cli(append([]string{"--output=result", "--parallel", "2"}, tc.targets...)...)
		res := parseResult(t, r.stdout)
		if r.code != tc.want || res.RC != tc.want {
			t.Errorf("%v: exit %d, result rc %d; want %d\n%s", tc.targets, r.code, res.RC, tc.want, r.stderr)
		}
		var got, want []string
		for i, c := range res.Results {
			got = append(got, fmt.Sprintf("%s rc=%d", c.Target, c.RC))
			want = append(want, fmt.Sprintf("%s rc=%d", tc.targets[i], wantRC[tc.targets[i]]))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%v: each run's code (-want +got):\n%s", tc.targets, d)
		}
	}
	h.cli("recover", "105")
}
