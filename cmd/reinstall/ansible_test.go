package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// ansibleRun is the fleet example (examples/ansible/reinstall.yml) run by
// Debian's ansible-playbook against hosts that are this machine
// (ansible_connection=local), each reinstalling containers of the demo
// --root host through the reinstall_ct module, built here, which runs this
// test binary as its reinstall.
type ansibleRun struct {
	h         *testHost
	dir       string // library/, inventory, ansible's temporary directories
	inventory string
}

func newAnsibleRun(t *testing.T, h *testHost, containers map[string][]int) *ansibleRun {
	t.Helper()
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Fatal("ansible-playbook is missing: scripts/install-deps.sh installs ansible-core")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "library", "reinstall_ct"), "../ansible-reinstall-ct")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the module: %v\n%s", err, out)
	}
	var inv strings.Builder
	inv.WriteString("[vz_nodes]\n")
	for _, host := range []string{"node-a", "node-b", "node-c"} {
		if ids, ok := containers[host]; ok {
			js, _ := json.Marshal(ids)
			fmt.Fprintf(&inv, "%s ansible_connection=local containers='%s'\n", host, js)
		}
	}
	fmt.Fprintf(&inv, "[vz_nodes:vars]\nreinstall_root=%s\nreinstall_executable=%s\nansible_python_interpreter=/usr/bin/python3\n", h.Root, os.Args[0])
	a := &ansibleRun{h: h, dir: dir, inventory: filepath.Join(dir, "inventory.ini")}
	if err := os.WriteFile(a.inventory, []byte(inv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// playbook runs the example playbook with extra arguments; the module's
// results come out one line each (the oneline callback).
func (a *ansibleRun) playbook(t *testing.T, args ...string) (out string, code int) {
	t.Helper()
	full := append([]string{"-i", a.inventory, filepath.Join("..", "..", "examples", "ansible", "reinstall.yml")}, args...)
	cmd := exec.Command("ansible-playbook", full...)
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "LC_ALL=C.UTF-8", "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LIBRARY="+filepath.Join(a.dir, "library"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(a.dir, "tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(a.dir, "tmp"), "HOME="+a.dir, "ANSIBLE_STDOUT_CALLBACK=oneline")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return buf.String(), cmd.ProcessState.ExitCode()
}

// moduleResults are the reinstall_ct results of a run, by container.
func moduleResults(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	for _, m := range regexp.MustCompile(`(?m)^node-\w+ \| (?:SUCCESS|CHANGED|FAILED!) => (\{.*\})$`).FindAllStringSubmatch(out, -1) {
		var task struct {
			Results []map[string]any `json:"results"`
		}
		if json.Unmarshal([]byte(m[1]), &task) != nil {
			continue
		}
		for _, r := range task.Results {
			if _, ok := r["cmd"]; ok {
				got[fmt.Sprint(r["item"])] = r
			}
		}
	}
	return got
}

// summary is what a test compares of a module result.
func summary(r map[string]any) string {
	if r == nil {
		return "no result"
	}
	return fmt.Sprintf("changed=%v failed=%v rc=%v reason=%v replayed=%v", r["changed"], r["failed"], r["rc"], r["reason"], r["replayed"])
}

func TestAnsibleModule(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCTs(102, 103, 104)
	a := newAnsibleRun(t, h, map[string][]int{"node-a": {102, 104}, "node-b": {103}})
	trees := func() map[int]testenv.Tree {
		return map[int]testenv.Tree{102: h.treeOf(102), 103: h.treeOf(103), 104: h.treeOf(104)}
	}
	all := func(res map[string]map[string]any) map[string]string {
		return map[string]string{"102": summary(res["102"]), "103": summary(res["103"]), "104": summary(res["104"])}
	}

	// Check mode: the plan, changed, and nothing touched.
	before := trees()
	out, code := a.playbook(t, "--check", "-e", "batch=b1")
	res := moduleResults(t, out)
	if code != 0 || summary(res["102"]) != "changed=true failed=false rc=0 reason=<nil> replayed=<nil>" || res["102"]["plan"] == nil {
		t.Fatalf("check mode: exit %d, 102: %s\n%s", code, summary(res["102"]), out)
	}
	assertTrees(t, "after --check", before, trees())

	// A serial run over the nodes: one node per batch, its containers one
	// after the other (the hook's lines of the runs do not interleave),
	// each reinstalled.
	order := h.Path("order")
	h.writeScript("vps.reinstall", fmt.Sprintf("#!/bin/sh\necho start $VEID >> %[1]s\nsleep 0.3\necho end $VEID >> %[1]s\nexit 128\n", order), 0o755)
	out, code = a.playbook(t, "-e", "batch=b1", "-e", "reinstall_serial=1")
	res = moduleResults(t, out)
	changed := "changed=true failed=false rc=0 reason=<nil> replayed=<nil>"
	want := map[string]string{"102": changed, "103": changed, "104": changed}
	if d := cmp.Diff(want, all(res)); d != "" || code != 0 {
		t.Fatalf("exit %d; results (-want +got):\n%s\n%s", code, d, out)
	}
	assertFollowSchema(t, res)
	if got := readFile(t, order); got != "start 102\nend 102\nstart 104\nend 104\nstart 103\nend 103\n" {
		t.Errorf("the runs, in order:\n%s\nwant one node after the other (serial 1), its containers in turn", got)
	}
	for _, id := range []int{102, 103, 104} {
		if !exists(h.Path(fmt.Sprintf("vz/private/%d/old/root/mine", id))) {
			t.Errorf("%d was not reinstalled", id)
		}
	}

	// The same batch again: every request replays, nothing is touched.
	before = trees()
	out, code = a.playbook(t, "-e", "batch=b1")
	res = moduleResults(t, out)
	replayed := "changed=false failed=false rc=0 reason=<nil> replayed=true"
	want = map[string]string{"102": replayed, "103": replayed, "104": replayed}
	if d := cmp.Diff(want, all(res)); d != "" || code != 0 {
		t.Fatalf("replay: exit %d; results (-want +got):\n%s\n%s", code, d, out)
	}
	assertFollowSchema(t, res)
	assertTrees(t, "after a replay", before, trees())

	// A failing container: failed, its rc and reason; the rescue says so.
	h.writeScript("vps.reinstall", "#!/bin/sh\n[ \"$VEID\" = 103 ] && exit 5\nexit 128\n", 0o755)
	before = trees()
	out, code = a.playbook(t, "-e", "batch=b2", "-l", "node-b")
	res = moduleResults(t, out)
	if got := summary(res["103"]); got != "changed=false failed=true rc=1 reason=stage-failed replayed=<nil>" || code == 0 {
		t.Fatalf("a failing container: exit %d, %s\n%s", code, got, out)
	}
	assertFollowSchema(t, res)
	if !strings.Contains(out, "103: rc 1 stage-failed: vps-reinstall:") {
		t.Errorf("the rescue does not say what failed:\n%s", out)
	}
	assertTree(t, "103, rolled back", before[103], h.treeOf(103))
}

// moduleOnlyKeys are what the module and Ansible add to reinstall's result
// object: the command run, its stderr (and Ansible's stderr_lines), the
// loop's item.
var moduleOnlyKeys = []string{"cmd", "stderr", "stderr_lines", "item", "ansible_loop_var", "invocation"}

// assertFollowSchema: each module result, without what the module and
// Ansible add to it, follows docs/result.schema.json.
func assertFollowSchema(t *testing.T, res map[string]map[string]any) {
	t.Helper()
	for item, r := range res {
		obj := map[string]any{}
		for k, v := range r {
			if !slices.Contains(moduleOnlyKeys, k) && !strings.HasPrefix(k, "_ansible") {
				obj[k] = v
			}
		}
		doc, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("result of "+item, func(t *testing.T) { validateResult(t, string(doc)) })
	}
}

func assertTrees(t *testing.T, when string, want, got map[int]testenv.Tree) {
	t.Helper()
	for id := range want {
		assertTree(t, fmt.Sprintf("container %d %s", id, when), want[id], got[id])
	}
}
