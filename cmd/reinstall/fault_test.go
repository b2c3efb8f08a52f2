//go:build faultinject

package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// The crash-safety suite (contract §5): kill the host or a plugin with
// SIGKILL at every journal record and in the middle of the long steps, run
// `reinstall recover`, and check that exactly one of the two allowed states
// holds — the old container as it was, or the reinstalled one with the old
// data at /old (or gone, with --skipbackup).

type faultMode struct {
	name               string
	custom, skipbackup bool
}

var faultModes = []faultMode{
	{"default", false, false},
	{"default+skipbackup", false, true},
	{"custom", true, false},
	{"custom+skipbackup", true, true},
}

// faultOutcome is one row of the printed table.
type faultOutcome struct {
	mode, point, state string
}

var (
	faultMu      sync.Mutex
	faultResults []faultOutcome
)

func TestFaultInjection(t *testing.T) {
	t.Cleanup(printFaultTable)
	for _, m := range faultModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			var points []string
			for _, n := range faultRecords(t, m, false) {
				points = append(points, fmt.Sprintf("host:record:%d", n))
			}
			for _, n := range faultRecords(t, m, true) {
				points = append(points, fmt.Sprintf("plugin:record:%d", n))
			}
			points = append(points, "host:untar:40", "plugin:untar:40", "host:hook", "plugin:hook")
			if m.skipbackup {
				points = append(points, "host:remove:5@backup-retention", "plugin:remove:5@backup-retention")
			}
			if m.custom {
				points = append(points, "host:exec", "plugin:exec")
			}
			for _, point := range points {
				t.Run(point, func(t *testing.T) {
					t.Parallel()
					hookKill := ""
					switch point {
					case "host:hook":
						hookKill = `kill -9 $(head -n1 %s)`
					case "plugin:hook":
						hookKill = `kill -9 $PPID`
					}
					runFaultPoint(t, m, point, hookKill)
				})
			}
		})
	}
}

// runFaultPoint runs one reinstall with a fault injected, recovers, and
// checks the outcome. It reports false when the fault point was never
// reached (the run succeeded untouched): the end of the record points.
func runFaultPoint(t *testing.T, m faultMode, point, hookKill string) bool {
	t.Helper()
	h := newTestHost(t)
	h.createCT()
	h.writePrivate("home/customer/unique", "old-data-marker-91ac\n", 0o644)
	before := h.tree("")
	hook := "exit 128"
	if m.custom {
		hook = "exit 0"
	}
	if hookKill != "" {
		if strings.Contains(hookKill, "%s") {
			hookKill = fmt.Sprintf(hookKill, h.Path("vz/lock/101.lck"))
		}
		hook = hookKill + "\nsleep 5\n" + hook
	}
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), hook), 0o755)
	if m.custom {
		h.writeScript("vps.configure", "sleep 1\ncp /old/home/customer/unique /copied\n", 0o644)
	}
	args := []string{"101"}
	if m.skipbackup {
		args = []string{"--skipbackup", "101"}
	}
	spec := point
	if strings.HasSuffix(point, ":hook") {
		spec = ""
	}
	r := h.cliEnv([]string{"REINSTALL_FAULT=" + spec}, args...)
	if r.code == 0 {
		t.Errorf("%s %s: the fault point was never reached", m.name, point)
		return false
	}
	cgroup := journalCgroup(h)
	rec := h.cli("recover", "101")
	if rec.code != 0 {
		t.Fatalf("%s %s: recover exit %d\n%s%s\nrun stderr:\n%s", m.name, point, rec.code, rec.stdout, rec.stderr, r.stderr)
	}
	state := checkAllowedState(t, h, m, before)
	h.assertClean()
	if cgroup != "" && exists(cgroup) {
		t.Errorf("%s %s: run cgroup %s left after recover", m.name, point, cgroup)
	}
	if again := h.cli("recover", "101"); again.code != 0 || !strings.Contains(again.stdout, engine.RecoveredNothing) {
		t.Errorf("%s %s: second recover: exit %d %s", m.name, point, again.code, again.stdout)
	}
	os.Remove(h.Path("etc/vz/conf/vps.reinstall"))
	if fresh := h.cli("--stop", "101"); fresh.code != 0 {
		t.Errorf("%s %s: a fresh reinstall after recovery failed: exit %d\n%s", m.name, point, fresh.code, fresh.stderr)
	}
	faultMu.Lock()
	faultResults = append(faultResults, faultOutcome{m.name, point, state})
	faultMu.Unlock()
	return true
}

// faultRecords makes a dry run of the mode and returns the sequence numbers
// of its journal records: all of them, or only those a plugin wrote (the
// points where killing the plugin, not the host, means something).
func faultRecords(t *testing.T, m faultMode, pluginSteps bool) []int {
	t.Helper()
	h := newTestHost(t)
	h.createCT()
	hook := "exit 128"
	if m.custom {
		hook = "exit 0"
		h.writeScript("vps.configure", "true\n", 0o644)
	}
	h.writeScript("vps.reinstall", recordingHook(h.Path("record"), hook), 0o755)
	args := []string{"101"}
	if m.skipbackup {
		args = []string{"--skipbackup", "101"}
	}
	copyPath := h.Path("journal-copy")
	if r := h.cliEnv([]string{"REINSTALL_FAULT=copy-journal:" + copyPath}, args...); r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	records, err := journal.Read(copyPath)
	if err != nil || len(records) < 10 {
		t.Fatalf("dry run journal copy: %d records, %v", len(records), err)
	}
	var seqs []int
	for _, rec := range records {
		if !pluginSteps || rec.Type == journal.RecordStep {
			seqs = append(seqs, rec.Seq)
		}
	}
	return seqs
}

// checkAllowedState asserts one of the two states and names it.
func checkAllowedState(t *testing.T, h *testHost, m faultMode, before map[string]string) string {
	t.Helper()
	status := h.status()
	if status == "stopped" && !exists(h.private("old")) && !exists(h.private("etc/motd.new")) {
		assertTree(t, "the old private area after recovery", before, h.tree(""))
		return "old"
	}
	if status != "running" {
		t.Errorf("container %s after a roll-forward, want running", status)
	}
	if exists(h.private("etc/broken.conf")) || !exists(h.private("etc/motd")) {
		t.Error("the recovered new area is not the fresh template")
	}
	if m.skipbackup {
		if exists(h.private("old")) {
			t.Error("/old exists after a --skipbackup roll-forward")
		}
		return "new (old deleted)"
	}
	assertTree(t, "/old after a roll-forward", before, h.tree("old"))
	return "new (old at /old)"
}

// journalCgroup reads the run's cgroup from its journal, if any.
func journalCgroup(h *testHost) string {
	records, err := journal.Read(h.Path("vz/lock/101.journal"))
	if err != nil || len(records) == 0 || records[0].Header == nil {
		return ""
	}
	return records[0].Header.Cgroup
}

func printFaultTable() {
	faultMu.Lock()
	defer faultMu.Unlock()
	sort.SliceStable(faultResults, func(i, j int) bool { return faultResults[i].mode < faultResults[j].mode })
	counts := map[string]int{}
	fmt.Println("fault injection: mode | killed at | recovered state")
	for _, r := range faultResults {
		fmt.Printf("  %-20s %-20s %s\n", r.mode, r.point, r.state)
		counts[r.state]++
	}
	fmt.Printf("fault injection: %d points recovered (%d to the old container, %d to the new one)\n",
		len(faultResults), counts["old"], len(faultResults)-counts["old"])
}
