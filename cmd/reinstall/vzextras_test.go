package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/hooks"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// The Virtuozzo 7 extras of the default pipeline: the credential merge
// (--resetpwdb) and the /etc/vz/reinstall.d hooks (--scripts, --skipscripts,
// --listscripts), end to end on a real container.

// The template's account files (internal/testenv's template).
const (
	templatePasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	templateGroup  = "root:x:0:\nnogroup:x:65534:\n"
	templateShadow = "root:*:19000:0:99999:7:::\n"
)

// writeOldAccounts gives container 101 accounts of its own: a changed root
// shell and password, a user and a group only it has, a member added to a
// group the template has too, and a line that does not parse.
func (h *testHost) writeOldAccounts() {
	h.t.Helper()
	h.writePrivate("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\ngarbage\n", 0o644)
	h.writePrivate("etc/shadow", "root:$6$old$hash:19500:0:99999:7:::\nalice:$6$a$alice:19600:0:99999:7:::\n", 0o600)
	h.writePrivate("etc/group", "root:x:0:alice\nalice:x:1000:\nnogroup:x:65534:\n", 0o644)
}

func TestCredentialsMergedIntoNewContainer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(h *testHost) []string
		// want: the files inside the new container
		passwd, shadow, group string
	}{
		{"merged", func(*testHost) []string { return []string{"101"} },
			"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n",
			"root:$6$old$hash:19500:0:99999:7:::\nalice:$6$a$alice:19600:0:99999:7:::\n",
			"root:x:0:alice\nnogroup:x:65534:\nalice:x:1000:\n"},
		{"--resetpwdb keeps the template's", func(*testHost) []string { return []string{"--resetpwdb", "101"} },
			templatePasswd, templateShadow, templateGroup},
		{"a site pipeline without the stage keeps the template's", func(h *testHost) []string {
			return []string{"--pipeline", h.writePipelineFile("site.hcl", noExtrasPipeline), "101"}
		}, templatePasswd, templateShadow, templateGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.writeOldAccounts()
			r := h.mustCLI(tt.args(h)...)
			got := h.exec("cat /etc/passwd; echo --; cat /etc/shadow; echo --; cat /etc/group")
			if d := cmp.Diff(tt.passwd+"--\n"+tt.shadow+"--\n"+tt.group, got); d != "" {
				t.Errorf("accounts inside the new container (-want +got):\n%s\n%s", d, r.stderr)
			}
			if tt.name == "merged" && !strings.Contains(r.stderr, "/etc/passwd: line 3 of the old file is not a passwd entry; not merged") {
				t.Errorf("the unparsable line is not reported:\n%s", r.stderr)
			}
		})
	}
}

// noExtrasPipeline is the default pipeline without the two extra stages.
const noExtrasPipeline = `pipeline "site" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "backup-retention" "retention" {}
}
`

// hookBody is a hook that records, inside the container, its environment
// and whether it sees the old files at $REINSTALL_DATA_ROOT (the old
// container's ct.desc, planted by plantContainerHooks).
func hookBody(marker string) string {
	return "echo " + marker + "-output\n" +
		"tr '\\0' '\\n' < /proc/$$/environ > /" + marker + "\n" +
		"test -f \"$REINSTALL_DATA_ROOT/etc/vz/reinstall.d/ct.desc\" && echo sees-old >> /" + marker + "\n" +
		"exit 0\n"
}

// writeHook installs a hook on the host (/etc/vz/reinstall.d under the root).
func (h *testHost) writeHook(name, body string, mode os.FileMode) {
	h.t.Helper()
	p := h.Path("etc/vz/reinstall.d/" + name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		h.t.Fatal(err)
	}
}

// plantContainerHooks gives the (current, soon old) container hooks of its
// own: ct.sh, and a b.sh of the same name as a host hook; a symlink to a
// host hook does not count.
func (h *testHost) plantContainerHooks() {
	h.t.Helper()
	h.writePrivate("etc/vz/reinstall.d/ct.sh", hookBody("hook-ct"), 0o755)
	h.writePrivate("etc/vz/reinstall.d/ct.desc", "Container hook\n", 0o644)
	h.writePrivate("etc/vz/reinstall.d/b.sh", hookBody("hook-b-container"), 0o755)
	if err := os.Symlink(h.Path("etc/vz/reinstall.d/a.sh"), h.private("etc/vz/reinstall.d/link.sh")); err != nil {
		h.t.Fatal(err)
	}
}

var wantHookEnv = []string{"HOME=/", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"REINSTALL_DATA_ROOT=/old", "SHELL=/bin/sh", "VEID=101", "sees-old"}

func TestReinstallHooks(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeHook("a.sh", hookBody("hook-a"), 0o755)
	h.writeHook("a.desc", "Adds A.\nSecond line.", 0o644)
	h.writeHook("b.sh", hookBody("hook-b-host"), 0o755)
	h.writeHook("off.sh", hookBody("hook-off"), 0o644) // no exec bit: not a hook
	h.writeHook("notes.txt", "not a hook\n", 0o755)
	h.writeHook("fail.sh", "echo failing >&2\nexit 3\n", 0o755)
	h.plantContainerHooks()

	// --listscripts changes nothing and lists both, marked.
	before, privateBefore := h.rootTree(), h.tree("")
	r := h.mustCLI("--listscripts", "101")
	if d := cmp.Diff("host      a.sh\nhost      b.sh\nhost      fail.sh\ncontainer b.sh\ncontainer ct.sh\n", r.stdout); d != "" {
		t.Errorf("--listscripts (-want +got):\n%s", d)
	}
	r = h.mustCLI("--listscripts", "--desc", "101")
	want := "host      a.sh:Adds A.\nhost      a.sh:Second line.\nhost      b.sh:\nhost      fail.sh:\ncontainer b.sh:\ncontainer ct.sh:Container hook\n"
	if d := cmp.Diff(want, r.stdout); d != "" {
		t.Errorf("--listscripts --desc (-want +got):\n%s", d)
	}
	assertTree(t, "the host after --listscripts", before, h.rootTree())

	// An unknown name is refused before anything changes.
	r = h.cli("--scripts", "a.sh,nope.sh", "101")
	if r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), "nope.sh") || !strings.Contains(r.lastLine(), h.Path("etc/vz/reinstall.d")) {
		t.Errorf("unknown --scripts name: exit %d\n%s", r.code, r.stderr)
	}
	assertTree(t, "the host after a refused --scripts", before, h.rootTree())

	// By default every host hook runs inside the container, in order, and
	// the container's own do not; fail.sh fails the run, which rolls back.
	r = h.cli("101")
	if r.code != engine.ExitFailed || !strings.Contains(r.stderr, "the host hook fail.sh exited with status 3") || !strings.Contains(r.stderr, "failing") {
		t.Fatalf("a failing hook: exit %d\n%s", r.code, r.stderr)
	}
	assertTree(t, "the private area after a failed hook", privateBefore, h.tree(""))
	h.assertClean()
	if err := os.Remove(h.Path("etc/vz/reinstall.d/fail.sh")); err != nil {
		t.Fatal(err)
	}

	r = h.mustCLI("101")
	if !strings.Contains(r.stderr, "hook-a-output") {
		t.Errorf("the hook's output is not in the stage log:\n%s", r.stderr)
	}
	if d := cmp.Diff(wantHookEnv, sortedLines(readFile(t, h.private("hook-a")))); d != "" {
		t.Errorf("host hook environment (-want +got):\n%s", d)
	}
	assertFiles(t, h, map[string]bool{"hook-a": true, "hook-b-host": true, "hook-b-container": false, "hook-ct": false, "hook-off": false})

	// --scripts: only those; a named container hook runs (first) and
	// shadows the host's of the same name.
	h.plantContainerHooks()
	r = h.mustCLI("--stop", "--scripts", "ct.sh b.sh", "101")
	assertFiles(t, h, map[string]bool{"hook-a": false, "hook-b-host": false, "hook-b-container": true, "hook-ct": true})
	if i, j := strings.Index(r.stderr, "running the container hook b.sh"), strings.Index(r.stderr, "running the container hook ct.sh"); i < 0 || j < i {
		t.Errorf("container hooks not run in order:\n%s", r.stderr)
	}
	if d := cmp.Diff(wantHookEnv, sortedLines(readFile(t, h.private("hook-ct")))); d != "" {
		t.Errorf("container hook environment (-want +got):\n%s", d)
	}
	// A symlinked container hook is no hook, even when named.
	h.plantContainerHooks()
	if r := h.cli("--stop", "--scripts", "link.sh", "101"); r.code != engine.ExitRefused {
		t.Errorf("a symlinked container hook named: exit %d\n%s", r.code, r.stderr)
	}

	// --skipscripts, --no-scripts and --scripts '' run none.
	for _, args := range [][]string{{"--skipscripts"}, {"--no-scripts"}, {"--scripts", ""}} {
		h.mustCLI(append(append([]string{"--stop"}, args...), "101")...)
		assertFiles(t, h, map[string]bool{"hook-a": false, "hook-b-host": false, "hook-b-container": false, "hook-ct": false})
	}
	if r := h.cli("--skipscripts", "--scripts", "a.sh", "101"); r.code != engine.ExitRefused {
		t.Errorf("--skipscripts with --scripts: exit %d", r.code)
	}

	// Default mode with --skipbackup: the old area is parked outside the
	// container; the hook still runs and the log says /old names nothing.
	r = h.mustCLI("--stop", "--skipbackup", "--scripts", "a.sh", "101")
	if !strings.Contains(r.stderr, "REINSTALL_DATA_ROOT=/old names nothing inside it") {
		t.Errorf("no warning about the parked old area:\n%s", r.stderr)
	}
	assertFiles(t, h, map[string]bool{"hook-a": true})
	h.assertClean()
}

// TestReinstallHooksSizeLimits: a hook larger than 1 MiB, the host's or a
// named container hook, is refused before anything changes, with a line
// naming it and the limit; --listscripts --desc prints at most 100 lines
// of a description, then says it is truncated.
func TestReinstallHooksSizeLimits(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	big := strings.Repeat("# padding\n", hooks.MaxHookSize/10+1)
	h.writeHook("a.sh", hookBody("hook-a"), 0o755)
	h.writeHook("big.sh", big, 0o755)
	h.writeHook("a.desc", strings.Repeat("a line\n", 150), 0o644)
	h.writePrivate("etc/vz/reinstall.d/ctbig.sh", big, 0o755)
	before := h.rootTree()

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"101"}, "the host hook big.sh is 1048580 bytes, more than the 1048576 (1 MiB) a hook may have"},
		{[]string{"--scripts", "ctbig.sh", "101"}, "the container hook ctbig.sh is 1048580 bytes, more than the 1048576 (1 MiB) a hook may have"},
	} {
		r := h.cli(tt.args...)
		if r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), tt.want) {
			t.Errorf("reinstall %v: exit %d, want %d and a last line with %q\n%s", tt.args, r.code, engine.ExitRefused, tt.want, r.stderr)
		}
		assertTree(t, fmt.Sprintf("the host after reinstall %v", tt.args), before, h.rootTree())
	}
	assertFiles(t, h, map[string]bool{"hook-a": false})

	r := h.mustCLI("--listscripts", "--desc", "101")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var aLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "host      a.sh:") {
			aLines = append(aLines, l)
		}
	}
	if len(aLines) != 101 || aLines[99] != "host      a.sh:a line" || aLines[100] != "host      a.sh:… (truncated)" {
		t.Errorf("--listscripts --desc printed %d lines of a.desc, ending %q", len(aLines), aLines[len(aLines)-1])
	}
}

// assertFiles checks which files exist at the new container's root.
func assertFiles(t *testing.T, h *testHost, want map[string]bool) {
	t.Helper()
	for name, present := range want {
		if exists(h.private(name)) != present {
			t.Errorf("/%s exists: %v, want %v", name, !present, present)
		}
	}
}

// TestPlanShowsExtras: plan takes the flags as a reinstall does and says
// which extra stage runs.
func TestPlanShowsExtras(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeHook("a.sh", "true\n", 0o755)
	r := h.mustCLI("plan", "101")
	for _, want := range []string{
		`6. configure "credentials" (plugin credentials): will run`,
		"merges the old /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow into the new container's",
		`7. configure "reinstall-scripts" (plugin reinstall-scripts): will run`,
		"feeds the host's " + h.Path("etc/vz/reinstall.d") + "/*.sh hooks to /bin/bash (or /bin/sh) inside the running container, REINSTALL_DATA_ROOT=/old",
		`8. configure "health" (plugin health): will run`,
		"waits up to 2m until systemd is running (or degraded) if the new init is systemd; else rolls back to the old container",
		`9. backup-retention "retention"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}
	r = h.mustCLI("plan", "--resetpwdb", "--no-scripts", "--no-health", "101")
	for _, want := range []string{
		"options       skipbackup=false stop=false resetpwdb=true skipscripts=true nohealth=true\n",
		`8. configure "health" (plugin health): skipped (when is false)`,
		`6. configure "credentials" (plugin credentials): skipped (when is false)`,
		`7. configure "reinstall-scripts" (plugin reinstall-scripts): skipped (when is false)`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}
	if r := h.mustCLI("plan", "--scripts", "a.sh", "101"); !strings.Contains(r.stdout, "scripts=a.sh\n") {
		t.Errorf("plan --scripts a.sh:\n%s", r.stdout)
	}
	if r := h.cli("plan", "--scripts", "nope.sh", "101"); r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), "nope.sh") {
		t.Errorf("plan --scripts nope.sh: exit %d\n%s", r.code, r.stderr)
	}
}
