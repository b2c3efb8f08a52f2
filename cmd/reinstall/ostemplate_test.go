package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// otherTemplate is the second OS template of the --ostemplate tests: a
// busybox tree with its own marker file.
const (
	otherTemplate = "other-os"
	otherMarker   = "etc/other-os-marker"
)

// addOtherTemplate packs otherTemplate into the host's template cache.
func (h *testHost) addOtherTemplate() {
	h.t.Helper()
	rootfs := h.t.TempDir()
	if err := testenv.BuildRootfs(rootfs, "other"); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, otherMarker), []byte("from the other template\n"), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if _, err := testenv.PackTemplate(rootfs, h.Path("vz/template/cache"), otherTemplate, ".tar.gz"); err != nil {
		h.t.Fatal(err)
	}
}

// configWithComments gives container 101 a config with comments, an
// unknown key and a raw $VEID, and returns its text.
func (h *testHost) configWithComments() string {
	h.t.Helper()
	p := h.Path("etc/vz/conf/101.conf")
	text := readFile(h.t, p) + "# kept: a site comment\nSITE_KEY=\"area-$VEID\"  # unknown key, raw $VEID\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return text
}

// ostemplatePipeline is the default pipeline plus a stage that runs only when
// ct.ostemplate is the template given with --ostemplate.
const ostemplatePipeline = `pipeline "ostemplate" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "keep-home" {
    plugin = "copy-from-old"
    paths  = ["/home"]
    when   = ct.ostemplate == "other-os"
  }
  stage "backup-retention" "retention" {}
}
`

func TestOSTemplateSwitchesTemplate(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.addOtherTemplate()
	before := h.configWithComments()
	pipelineFile := filepath.Join(t.TempDir(), "ostemplate.hcl")
	if err := os.WriteFile(pipelineFile, []byte(ostemplatePipeline), 0o644); err != nil {
		t.Fatal(err)
	}

	plan := h.mustCLI("plan", "--pipeline", pipelineFile, "-t", otherTemplate, "101")
	for _, want := range []string{"template      other-os (", "replaces OSTEMPLATE=" + testenv.DefaultTemplate, `configure "keep-home" (plugin copy-from-old): will run`} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, plan.stdout)
		}
	}
	if got := readFile(t, h.Path("etc/vz/conf/101.conf")); got != before {
		t.Fatalf("plan changed the config:\n%s", got)
	}

	h.mustCLI("--pipeline", pipelineFile, "--ostemplate", otherTemplate, "101")
	if got := h.exec("cat /" + otherMarker); got != "from the other template\n" {
		t.Errorf("the container does not run the other template: %q", got)
	}
	if got := h.exec("cat /home/customer/notes.txt"); got != "precious data\n" {
		t.Errorf("ct.ostemplate did not name the new template during the run (keep-home skipped): %q", got)
	}
	want := strings.Replace(before, `OSTEMPLATE="`+testenv.DefaultTemplate+`"`, `OSTEMPLATE="`+otherTemplate+`"`, 1)
	if d := cmp.Diff(want, readFile(t, h.Path("etc/vz/conf/101.conf"))); d != "" {
		t.Errorf("config after the reinstall (-want +got):\n%s", d)
	}
	h.assertClean()

	// The next reinstall uses the recorded template without the flag.
	r := h.mustCLI("plan", "--stop", "101")
	if !strings.Contains(r.stdout, "template      other-os (") || strings.Contains(r.stdout, "replaces OSTEMPLATE") {
		t.Errorf("plan after the switch:\n%s", r.stdout)
	}
}

func TestOSTemplateConfigUnchangedUnlessReinstalled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		ostemplate string
		hook       string // vps.reinstall, if any
		code       int
		stderr     []string
		cacheFile  bool // a copy of the other template named ostemplate
	}{
		{name: "hook fails", ostemplate: otherTemplate, hook: "#!/bin/sh\nexit 3\n", code: engine.ExitFailed,
			stderr: []string{"vps.reinstall exited with status 3"}},
		{name: "missing template", ostemplate: "no-such-os", code: engine.ExitRefused,
			stderr: []string{"OS template not found", "vz/template/cache/no-such-os.tar,", "vz/template/cache/no-such-os.tar.bz2"}},
		{name: "path in the name", ostemplate: "../cache/" + otherTemplate, code: engine.ExitRefused,
			stderr: []string{"not a valid template name"}},
		{name: "quotes in the name", ostemplate: `a"b'c`, code: engine.ExitRefused,
			stderr: []string{"not a valid template name"}},
		// A cache file may be named so, but the name would go into a
		// config that shell scripts source.
		{name: "shell syntax in the name", ostemplate: "x$(touch pwned)`id`", cacheFile: true, code: engine.ExitRefused,
			stderr: []string{"may hold only letters, digits"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.addOtherTemplate()
			config := h.configWithComments()
			if tc.hook != "" {
				h.writeScript("vps.reinstall", tc.hook, 0o755)
			}
			if tc.cacheFile {
				cache := h.Path("vz/template/cache")
				data := readFile(t, filepath.Join(cache, otherTemplate+".tar.gz"))
				if err := os.WriteFile(filepath.Join(cache, tc.ostemplate+".tar.gz"), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := h.tree("")
			r := h.cli("--ostemplate", tc.ostemplate, "101")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if d := cmp.Diff(config, readFile(t, h.Path("etc/vz/conf/101.conf"))); d != "" {
				t.Errorf("config changed (-before +after):\n%s", d)
			}
			assertTree(t, "the private area", before, h.tree(""))
			if got := h.status(); got != "stopped" {
				t.Errorf("status %q, want stopped", got)
			}
			h.assertClean()
		})
	}
}

// TestOSTemplateRefusesSymlinkedConfig: Virtuozzo 7 links <CTID>.conf to
// <VE_PRIVATE>/ve.conf; --ostemplate could only record the new template by
// replacing the link, so it is refused before any change (exit 2,
// config-invalid), saying to edit OSTEMPLATE by hand.
func TestOSTemplateRefusesSymlinkedConfig(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.addOtherTemplate()
	conf, veConf := h.Path("etc/vz/conf/101.conf"), h.private("ve.conf")
	config := readFile(t, conf)
	if err := os.Rename(conf, veConf); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(veConf, conf); err != nil {
		t.Fatal(err)
	}
	before := h.tree("")

	r := h.cli("--json", "--ostemplate", otherTemplate, "101")
	if r.code != engine.ExitRefused {
		t.Fatalf("exit %d, want %d\n%s", r.code, engine.ExitRefused, r.stderr)
	}
	if e := lastOf(t, parseEvents(t, r.stdout), engine.EventError); e.Reason != engine.ReasonConfigInvalid {
		t.Errorf("reason %q, want %q", e.Reason, engine.ReasonConfigInvalid)
	}
	for _, want := range []string{conf, "is a symlink", veConf, `set OSTEMPLATE="other-os" there by hand`} {
		if !strings.Contains(r.lastLine(), want) {
			t.Errorf("last line lacks %q:\n%s", want, r.stderr)
		}
	}
	if got, err := os.Readlink(conf); err != nil || got != veConf {
		t.Errorf("the config link is now %q, %v; want it to point to %s", got, err, veConf)
	}
	if d := cmp.Diff(config, readFile(t, veConf)); d != "" {
		t.Errorf("ve.conf changed (-before +after):\n%s", d)
	}
	assertTree(t, "the private area", before, h.tree(""))
	if got := h.status(); got != "stopped" {
		t.Errorf("status %q, want stopped", got)
	}
	h.assertClean()
}

func TestNoBackupIsSkipBackup(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	for _, cmd := range [][]string{{"--help"}, {"plan", "--help"}} {
		help := h.mustCLI(cmd...).stdout
		for _, flag := range []string{"--no-backup", "--skipbackup", "-t, --ostemplate NAME"} {
			if !strings.Contains(help, flag) {
				t.Errorf("%v does not show %s:\n%s", cmd, flag, help)
			}
		}
	}
	if r := h.mustCLI("plan", "--no-backup", "101"); !strings.Contains(r.stdout, "skipbackup=true") {
		t.Errorf("plan --no-backup:\n%s", r.stdout)
	}
	h.mustCLI("--no-backup", "101")
	if exists(h.private("old")) {
		t.Error("/old exists after --no-backup")
	}
	if !exists(h.private("etc/motd")) || exists(h.private("etc/broken.conf")) {
		t.Error("the new private area is not the fresh template")
	}
	h.assertClean()
}
