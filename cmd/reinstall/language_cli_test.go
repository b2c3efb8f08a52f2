package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// rootTree hashes the whole --root: plan must leave every byte as it was.
func (h *testHost) rootTree() testenv.Tree {
	h.t.Helper()
	tree, err := testenv.HashTree(h.Root)
	if err != nil {
		h.t.Fatal(err)
	}
	return tree
}

func TestPlanChangesNothing(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 0\n", 0o755)
	before := h.rootTree()

	r := h.mustCLI("plan", "101")
	for _, want := range []string{
		"Plan for container 101, stopped: pipeline \"default\" from <embedded default.hcl>",
		`1. provision "template" (plugin provision): will run`,
		"     creates " + h.Path("vz/private/101.reinstall"),
		`2. reinstall-hook "vps-reinstall" (plugin script): will run`,
		"     runs " + h.Path("etc/vz/conf/vps.reinstall") + " --veid 101",
		`3. swap "swap" (plugin swap): will run`,
		"     creates " + h.Path("vz/private/101/old"),
		`5. configure "vps-configure" (plugin script): depends on vps-reinstall`,
		`     when = try(stage.vps-reinstall.mode, "default") == "custom"`,
		h.Path("etc/vz/conf/vps.configure") + " does not exist: nothing runs",
		"Destroyed:\n  nothing\n",
		"Kept:\n  the old private area " + h.Path("vz/private/101") + " → " + h.Path("vz/private/101/old") + " (/old inside the container), for good\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}

	r = h.mustCLI("plan", "--skipbackup", "101")
	for _, want := range []string{
		"Destroyed:\n  the old private area " + h.Path("vz/private/101") + `: deleted by stage "retention" once the new container runs`,
		"Kept:\n  nothing of the old private area\n",
		"deletes the old private area",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan --skipbackup does not say %q:\n%s", want, r.stdout)
		}
	}

	r = h.mustCLI("plan", "--json", "--skipbackup", "101")
	var plan engine.RunPlan
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, r.stdout)
	}
	var runs []string
	for _, s := range plan.Stages {
		runs = append(runs, s.Name+"="+s.Run)
	}
	want := []string{"template=run", "vps-reinstall=run", "swap=run", "start=run", "vps-configure=depends", "credentials=run", "reinstall-scripts=run", "health=run", "retention=run"}
	if d := cmp.Diff(want, runs); d != "" {
		t.Errorf("plan --json stages (-want +got):\n%s", d)
	}
	if len(plan.Destroyed) != 1 || len(plan.Kept) != 0 || !plan.Options.SkipBackup || plan.Stages[4].DependsOn[0] != "vps-reinstall" {
		t.Errorf("plan --json: destroyed %v, kept %v, options %+v, stage 5 %+v", plan.Destroyed, plan.Kept, plan.Options, plan.Stages[4])
	}

	assertTree(t, "the root after plans", before, h.rootTree())

	// A running container: refused as the reinstall would be, and planned
	// with --stop; the container and the root stay as they are.
	h.mustCLI("ct", "start", "101")
	running := h.rootTree()
	if r := h.cli("plan", "101"); r.code != engine.ExitRunning || !strings.Contains(r.lastLine(), "is running") {
		t.Errorf("plan of a running container without --stop: exit %d, %q", r.code, r.lastLine())
	}
	r = h.mustCLI("plan", "--stop", "101")
	if !strings.Contains(r.stdout, "running: pipeline") || !strings.Contains(r.stdout, "stops the running container right before the exchange") {
		t.Errorf("plan --stop of a running container:\n%s", r.stdout)
	}
	assertTree(t, "the root after plans of the running container", running, h.rootTree())
	if got := h.status(); got != "running" {
		t.Errorf("status %q after plan --stop, want running", got)
	}
}

func TestPlanWhenAndVariables(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	dir := t.TempDir()
	file := filepath.Join(dir, "site.hcl")
	os.WriteFile(file, []byte(`
variable "script_dir" {
  type = string
}

variable "with_configure" {
  type    = bool
  default = true
}

variable "token" {
  type      = string
  sensitive = true
  default   = "s3cret"
}

pipeline "site" {
  stage "reinstall-hook" "vps-reinstall" {
    script = "${var.script_dir}/vps.reinstall"
  }
  stage "provision" "template" {
    when = stage.vps-reinstall.mode == "default"
  }
  stage "swap" "swap" {}
  stage "start" "start" {
    when = !opts.skipbackup || opts.skipbackup
  }
  stage "configure" "vps-configure" {
    script = "${var.script_dir}/vps.configure"
    when   = var.with_configure && ct.hostname == "nomatch"
  }
  stage "configure" "keep" {
    plugin = "copy-from-old"
    paths  = ["/home"]
  }
  stage "backup-retention" "retention" {}
}
`), 0o644)
	varFile := filepath.Join(dir, "site.vars")
	os.WriteFile(varFile, []byte("script_dir = \"/from/file\"\n"), 0o644)
	before := h.rootTree()

	// A required variable without a value refuses, with the declaration shown.
	r := h.cli("plan", "--pipeline", file, "101")
	if r.code != engine.ExitRefused || !strings.Contains(r.stderr, "No value for required variable") || !strings.Contains(r.stderr, `variable "script_dir" {`) {
		t.Errorf("plan without script_dir: exit %d\n%s", r.code, r.stderr)
	}
	// --var-file, then --var over it, then the environment under both.
	r = h.mustCLI("plan", "--pipeline", file, "--var-file", varFile, "101")
	for _, want := range []string{
		`var.script_dir = "/from/file"`,
		"var.token = (sensitive)",
		`     script = "/from/file/vps.reinstall"`,
		`2. provision "template" (plugin provision): depends on vps-reinstall`,
		`4. start "start" (plugin start): will run`,
		`5. configure "vps-configure" (plugin script): skipped (when is false)`,
		"     creates " + h.Path("vz/private/101.reinstall") + " (empty, for the hook to fill)",
		"     creates " + h.Path("vz/private/101/home"),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}
	r = h.mustCLI("plan", "--pipeline", file, "--var-file", varFile, "--var", "script_dir=/from/cli", "101")
	if !strings.Contains(r.stdout, `script = "/from/cli/vps.reinstall"`) {
		t.Errorf("--var does not win over --var-file:\n%s", r.stdout)
	}
	r = h.cliEnv([]string{"REINSTALL_VAR_script_dir=/from/env"}, "plan", "--pipeline", file, "101")
	if r.code != 0 || !strings.Contains(r.stdout, `script = "/from/env/vps.reinstall"`) {
		t.Errorf("REINSTALL_VAR_script_dir: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.cli("plan", "--pipeline", file, "--var", "script_dir", "101"); r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), "want NAME=VALUE") {
		t.Errorf("--var without =: exit %d, %q", r.code, r.lastLine())
	}
	assertTree(t, "the root after plan", before, h.rootTree())
}

// TestValidateCommand runs reinstall validate on every invalid fixture:
// exit 1, each marker's error at its line and column in --json, and the
// source snippet in the text output.
func TestValidateCommand(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	files, _ := filepath.Glob("../../pipeline/testdata/invalid/*.hcl")
	if len(files) < 20 {
		t.Fatalf("%d fixtures", len(files))
	}
	marker := regexp.MustCompile(`#\s*(ERROR|WARNING): (\d+):(\d+) (.+?)\s*$`)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			src, _ := os.ReadFile(f)
			var want []string
			errs := 0
			sc := bufio.NewScanner(strings.NewReader(string(src)))
			for sc.Scan() {
				if m := marker.FindStringSubmatch(sc.Text()); m != nil {
					want = append(want, fmt.Sprintf("%s %s:%s %s", strings.ToLower(m[1]), m[2], m[3], m[4]))
					if m[1] == "ERROR" {
						errs++
					}
				}
			}
			r := h.cli("validate", "--json", f)
			wantCode := 1
			if errs == 0 {
				wantCode = 0
			}
			if r.code != wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, wantCode, r.stdout, r.stderr)
			}
			var out struct {
				Valid       bool
				Diagnostics []struct {
					Severity, Summary string
					Range             struct{ Start struct{ Line, Column int } }
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("validate --json: %v\n%s", err, r.stdout)
			}
			var got []string
			for _, d := range out.Diagnostics {
				got = append(got, fmt.Sprintf("%s %d:%d %s", d.Severity, d.Range.Start.Line, d.Range.Start.Column, d.Summary))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-markers +validate --json):\n%s", d)
			}
			r = h.cli("validate", f)
			if first := strings.SplitN(want[0], " ", 3); !strings.Contains(r.stderr, "on "+f+" line "+strings.Split(first[1], ":")[0]) {
				t.Errorf("no source snippet for %s:\n%s", want[0], r.stderr)
			}
		})
	}
}

func TestValidateSiteFileAndDefault(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	if r := h.mustCLI("validate"); !strings.Contains(r.stdout, `<embedded default.hcl>: pipeline "default" is valid: 9 stages`) {
		t.Errorf("validate without a site file: %q", r.stdout)
	}
	h.writeHostFile("etc/vz/reinstall.hcl", "pipeline \"site\" {\n  stage \"provision\" \"p\" {}\n}\n", 0o644)
	r := h.cli("validate")
	if r.code != 1 || !strings.Contains(r.stderr, "No swap stage") || !strings.Contains(r.stderr, "on "+h.Path("etc/vz/reinstall.hcl")+" line 2") {
		t.Errorf("validate of an invalid site file: exit %d\n%s", r.code, r.stderr)
	}
	// The reinstall itself refuses the same file before any change (exit 2).
	h.writeHostFile("etc/vz/conf/101.conf", testenv.ConfigBody("ct101"), 0o644)
	if r := h.cli("101"); r.code != engine.ExitRefused || !strings.Contains(r.lastLine(), "No swap stage") {
		t.Errorf("reinstall with an invalid site file: exit %d, %q", r.code, r.lastLine())
	}
}

func TestFmtCommand(t *testing.T) {
	t.Parallel()
	h := bareHost(t)
	messy := "# site pipeline\npipeline \"site\" {\nstage \"provision\" \"template\" {} # unpack\n  stage \"reinstall-hook\" \"hook\" {\n  script = \"${var.dir}\"\n    timeout=\"1m\"\n  }\n\n\n  stage \"swap\" \"swap\" {}\n}\n\n"
	clean := "# site pipeline\npipeline \"site\" {\n  stage \"provision\" \"template\" {} # unpack\n  stage \"reinstall-hook\" \"hook\" {\n    script  = var.dir\n    timeout = \"1m\"\n  }\n\n\n  stage \"swap\" \"swap\" {}\n}\n"
	file := h.Path("site.hcl")
	h.writeHostFile("site.hcl", messy, 0o640)

	r := h.cli("fmt", "--check", file)
	if r.code != 1 || r.stdout != file+"\n" || readFile(t, file) != messy {
		t.Errorf("fmt --check on an unformatted file: exit %d, %q; the file must not change", r.code, r.stdout)
	}
	r = h.cli("fmt", "--check", "--diff", file)
	if r.code != 1 || !strings.Contains(r.stdout, "-  script = \"${var.dir}\"\n") || !strings.Contains(r.stdout, "+    script  = var.dir\n") {
		t.Errorf("fmt --check --diff: exit %d\n%s", r.code, r.stdout)
	}
	r = h.mustCLI("fmt", file)
	if r.stdout != file+"\n" {
		t.Errorf("fmt prints %q, want the changed file's name", r.stdout)
	}
	if d := cmp.Diff(clean, readFile(t, file)); d != "" {
		t.Errorf("formatted file (-want +got):\n%s", d)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Errorf("fmt changed the file's mode to %v", fi.Mode())
	}
	if r := h.mustCLI("fmt", "--check", file); r.stdout != "" {
		t.Errorf("fmt --check after fmt: %q", r.stdout)
	}
	if r := h.mustCLI("fmt", file); r.stdout != "" {
		t.Errorf("fmt of a formatted file prints %q", r.stdout)
	}
	// stdin to stdout.
	if r := h.cliStdin(messy, "fmt", "-"); r.code != 0 || r.stdout != clean {
		t.Errorf("fmt -: exit %d\n%s", r.code, r.stdout)
	}
	// A file with a syntax error is refused and left alone.
	broken := "pipeline \"x\" {\n  stage \"swap\" \"s\" {\n    when = \n  }\n}\n"
	h.writeHostFile("broken.hcl", broken, 0o644)
	r = h.cli("fmt", h.Path("broken.hcl"))
	if r.code != 2 || !strings.Contains(r.stderr, "Invalid expression") || readFile(t, h.Path("broken.hcl")) != broken {
		t.Errorf("fmt of a broken file: exit %d\n%s", r.code, r.stderr)
	}
	// No FILE: the site pipeline.
	h.writeHostFile("etc/vz/reinstall.hcl", messy, 0o644)
	if r := h.mustCLI("fmt"); r.stdout != h.Path("etc/vz/reinstall.hcl")+"\n" || readFile(t, h.Path("etc/vz/reinstall.hcl")) != clean {
		t.Errorf("fmt without FILE: %q", r.stdout)
	}
}
