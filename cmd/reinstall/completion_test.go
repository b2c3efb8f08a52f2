package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// completionHost is a --root with configs, names and template caches only:
// enough for completion, which reads files and nothing else.
func completionHost(t *testing.T, files map[string]string, links map[string]string) *testHost {
	t.Helper()
	h := bareHost(t)
	for p, content := range files {
		h.writeHostFile(p, content, 0o644)
	}
	for p, target := range links {
		full := h.Path(p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// completions runs the hidden `__complete` command and returns the
// candidates it printed (without the directive line).
func (h *testHost) completions(args ...string) []string {
	h.t.Helper()
	r := h.mustCLI(append([]string{"__complete"}, args...)...)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line != "" && !strings.HasPrefix(line, ":") {
			out = append(out, line)
		}
	}
	return out
}

func TestCompletionOfContainers(t *testing.T) {
	t.Parallel()
	h := completionHost(t, map[string]string{
		"etc/vz/conf/101.conf":                "NAME=\"web\"\nHOSTNAME=\"web.example\"\n",
		"etc/vz/conf/102.conf":                "HOSTNAME=\"db.example\"\n",
		"etc/vz/conf/1200.conf":               "# no name\n",
		"etc/vz/conf/0.conf":                  "NAME=\"not-a-ctid\"\n",
		"etc/vz/conf/ve-basic.conf-sample":    "",
		"etc/vz/conf/vps.reinstall":           "#!/bin/sh\n",
		"vz/template/cache/debian-12.tar.zst": "",
		"vz/template/cache/debian-12.tar":     "",
		"vz/template/cache/alma-9.tar.xz":     "",
		"vz/template/cache/notes.txt":         "",
	}, map[string]string{
		"etc/vz/names/web": "/etc/vz/conf/101.conf",
		"etc/vz/names/db":  "../conf/102.conf",
	})
	all := []string{"101\tweb", "102\tdb.example", "1200", "db\tcontainer 102", "web\tcontainer 101"}
	cases := []struct {
		args []string
		want []string
	}{
		{args: []string{"ct", "start", ""}, want: all},
		{args: []string{"ct", "stop", "1"}, want: []string{"101\tweb", "102\tdb.example", "1200"}},
		{args: []string{"ct", "status", "12"}, want: []string{"1200"}},
		{args: []string{"ct", "exec", "w"}, want: []string{"web\tcontainer 101"}},
		{args: []string{"ct", "exec", "101", ""}, want: nil},
		{args: []string{"recover", "d"}, want: []string{"db\tcontainer 102"}},
		{args: []string{"status", ""}, want: all},
		{args: []string{"plan", "--skipbackup", ""}, want: all},
		{args: []string{"plan", "101", ""}, want: nil},
		{args: []string{"--stop", ""}, want: all},
		{args: []string{"--ostemplate", ""}, want: []string{"alma-9", "debian-12"}},
		{args: []string{"plan", "-t", "deb"}, want: []string{"debian-12"}},
		{args: []string{"--log-level", ""}, want: []string{"trace", "debug", "info", "warn", "error"}},
		{args: []string{"ct", "start", "--runtime", ""}, want: []string{"auto", "native", "vzctl", "prlctl", "lxc"}},
		{args: []string{"ct", "create", "555", "--ostemplate", "a"}, want: []string{"alma-9"}},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, h.completions(tc.args...)); d != "" {
			t.Errorf("complete %q (-want +got):\n%s", tc.args, d)
		}
	}
	// The root command completes its subcommands and the containers.
	got := h.completions("")
	for _, want := range append([]string{"plan\tShow what a reinstall would do, changing nothing", "completion\tGenerate the autocompletion script for the specified shell"}, all...) {
		if !slices.Contains(got, want) {
			t.Errorf("complete reinstall: no %q in %q", want, got)
		}
	}
	// Another --root has other containers.
	other := completionHost(t, map[string]string{"etc/vz/conf/555.conf": ""}, nil)
	if d := cmp.Diff([]string{"555"}, other.completions("ct", "start", "")); d != "" {
		t.Errorf("completion ignores --root (-want +got):\n%s", d)
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	for shell, want := range map[string]string{
		"bash": "__start_reinstall",
		"zsh":  "#compdef reinstall",
		"fish": "complete -c reinstall",
	} {
		if r := h.mustCLI("completion", shell); !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		script := filepath.Join(t.TempDir(), "reinstall.bash")
		os.WriteFile(script, []byte(h.mustCLI("completion", "bash").stdout), 0o644)
		if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("bash -n on the bash completion: %v\n%s", err, out)
		}
	}
}

func TestManPages(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	dir := filepath.Join(t.TempDir(), "man")
	h.mustCLI("__gendocs", "man", dir)
	main := readFile(t, filepath.Join(dir, "reinstall.1"))
	for _, want := range []string{`.TH "REINSTALL" "1"`, "--ostemplate", "--no-backup", "--skipbackup", "--stop", "--pipeline", "--root", "--var", "reinstall-plan(1)", "reinstall-recover(1)"} {
		if !strings.Contains(main, want) {
			t.Errorf("reinstall.1 does not mention %s", want)
		}
	}
	for _, page := range []string{"reinstall-plan.1", "reinstall-recover.1", "reinstall-ct-exec.1", "reinstall-completion-bash.1"} {
		if !exists(filepath.Join(dir, page)) {
			t.Errorf("no %s", page)
		}
	}
	if pages, _ := filepath.Glob(filepath.Join(dir, "*gendocs*")); len(pages) > 0 {
		t.Errorf("the hidden command has a page: %v", pages)
	}
	if r := h.cli("__gendocs", "html", dir); r.code != 2 {
		t.Errorf("__gendocs html: exit %d, want 2", r.code)
	}
}

// A container's config is only described if it is a regular file whose
// NAME or HOSTNAME prints as it is: a fifo (which would hang the Tab) or a
// link is not read, and a value with escape sequences is not shown.
func TestCompletionReadsOnlyPlainConfigs(t *testing.T) {
	t.Parallel()
	h := completionHost(t, map[string]string{
		"etc/vz/conf/101.conf":   "NAME=\"web\"\n",
		"etc/vz/conf/103.conf":   "NAME=\"evil\u009b2J\"\n",
		"etc/vz/conf/104.conf":   "HOSTNAME=\"tab\there\"\n",
		"vz/private/105/ve.conf": "NAME=\"linked\"\n",
	}, map[string]string{
		"etc/vz/conf/105.conf": "../../../vz/private/105/ve.conf",
	})
	if err := unix.Mkfifo(h.Path("etc/vz/conf/102.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{"101\tweb", "102", "103", "104", "105"}
	if d := cmp.Diff(want, h.completions("ct", "start", "")); d != "" {
		t.Errorf("complete ct start (-want +got):\n%s", d)
	}
}
