package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// The test binary doubles as the "leaky" plugin (envLeakyPlugin set): a
// stage that echoes its secret through every channel a plugin has.
const envLeakyPlugin = "REINSTALL_TEST_LEAKY"

func init() {
	if os.Getenv(envLeakyPlugin) != "" {
		sdk.Serve(&sdk.Plugin{Name: "leaky", Version: "0.0.1", Stages: map[string]sdk.Stage{sdk.KindConfigure: leakyStage{}}})
		os.Exit(0)
	}
}

type leakyConfig struct {
	Token string `hcl:"token" sensitive:"true"`
	// Note is an ordinary attribute the pipeline computes from the token.
	Note string `hcl:"note,optional"`
	// Journal is copied to Copy while the stage runs.
	Journal string `hcl:"journal,optional"`
	Copy    string `hcl:"copy,optional"`
	Fail    bool   `hcl:"fail,optional"`
	// Linger (a directory) leaves a goroutine behind that, once a later
	// stage says it runs (Linger/running), uses this stage's Host: it asks
	// for the secret and journals a step, and records what it got in
	// Linger/attempts. Await (the same directory) is that later stage: it
	// says it runs and waits for the attempts before it goes on.
	Linger string `hcl:"linger,optional"`
	Await  string `hcl:"await,optional"`
}

type leakyStage struct{}

func (leakyStage) Schema() sdk.Schema {
	s := sdk.MustSchemaFromStruct(leakyConfig{})
	s.Outputs = []sdk.Output{{Name: "echo", Type: "string"}}
	return s
}

func (leakyStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (leakyStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c leakyConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	token, err := req.Host.Secret(ctx, "token")
	if err != nil {
		return nil, err
	}
	if c.Linger != "" {
		go lingerAfterStage(req.Host, c.Linger)
	}
	if c.Await != "" {
		if err := os.WriteFile(filepath.Join(c.Await, "running"), nil, 0o600); err != nil {
			return nil, err
		}
		if !waitForFile(filepath.Join(c.Await, "attempts")) {
			return nil, errors.New("the lingering goroutine never tried")
		}
	}
	fmt.Fprintf(os.Stderr, "stderr: %s %s\n", token, c.Note)
	req.Logger.Warn("logger: " + token + " " + c.Note)
	req.UI.Log(sdk.LevelWarn, "ui: "+token+" "+c.Note)
	if c.Journal != "" {
		data, err := os.ReadFile(c.Journal)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(c.Copy, data, 0o600); err != nil {
			return nil, err
		}
	}
	if c.Fail {
		return nil, errors.New("error: " + token + " " + c.Note)
	}
	return &sdk.Result{Outputs: map[string]string{"echo": token + " " + c.Note}}, nil
}

// lingerAfterStage is a goroutine that outlives its stage: once the next
// stage runs, it uses its old stage's Host as a misbehaving plugin would.
func lingerAfterStage(host sdk.Host, dir string) {
	if !waitForFile(filepath.Join(dir, "running")) {
		return
	}
	ctx := context.Background()
	var out []string
	secret, err := host.Secret(ctx, "token")
	out = append(out, fmt.Sprintf("secret: %q %v", secret, err))
	err = host.Journal(ctx, "forged", sdk.PhaseBegin, map[string]string{"by": "a returned stage"})
	out = append(out, fmt.Sprintf("journal: %v", err))
	_, err = host.ReadFile(ctx, "/etc/motd")
	out = append(out, fmt.Sprintf("readfile: %v", err))
	_ = os.WriteFile(filepath.Join(dir, "attempts.tmp"), []byte(strings.Join(out, "\n")+"\n"), 0o600)
	_ = os.Rename(filepath.Join(dir, "attempts.tmp"), filepath.Join(dir, "attempts"))
}

// waitForFile waits up to 20s for a file to exist.
func waitForFile(p string) bool {
	for range 1000 {
		if _, err := os.Stat(p); err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestStageOutlivingGoroutineIsRefused: a plugin goroutine left behind by
// a stage that has returned tries, while a later stage of the same plugin
// process runs, to read a secret and to journal a step: both are refused,
// so it neither gets the later stage's secret nor writes records under its
// name, and the run succeeds.
func TestStageOutlivingGoroutineIsRefused(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	installPlugin(t, h.Path(sitePluginDir), "leaky", fmt.Appendf(nil, "#!/bin/sh\nexec env %s=1 %s\n", envLeakyPlugin, os.Args[0]), 0o755)
	dir := t.TempDir()
	journalCopy := filepath.Join(dir, "journal")
	file := h.writePipelineFile("linger.hcl", fmt.Sprintf(`pipeline "linger" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "first" {
    plugin = "leaky"
    token  = "first-stage-secret"
    linger = %q
  }
  stage "configure" "second" {
    plugin  = "leaky"
    token   = "second-stage-secret"
    await   = %q
    journal = %q
    copy    = %q
  }
  stage "backup-retention" "retention" {}
}
`, dir, dir, h.Path("vz/lock/101.journal"), journalCopy))
	h.mustCLI("--pipeline", file, "101")
	attempts := readFile(t, filepath.Join(dir, "attempts"))
	for _, leaked := range []string{"second-stage-secret", "first-stage-secret"} {
		if strings.Contains(attempts, leaked) {
			t.Errorf("the goroutine of a returned stage read %q:\n%s", leaked, attempts)
		}
	}
	for _, call := range []string{"secret", "journal", "readfile"} {
		if !strings.Contains(attempts, call+": ") || strings.Contains(attempts, call+": <nil>") || strings.Contains(attempts, call+": \"\" <nil>") {
			t.Errorf("the %s call of a returned stage was not refused:\n%s", call, attempts)
		}
	}
	if !strings.Contains(attempts, "has returned") {
		t.Errorf("the refusal does not say why:\n%s", attempts)
	}
	if j := readFile(t, journalCopy); strings.Contains(j, "forged") {
		t.Errorf("the journal holds a record forged by a returned stage:\n%s", j)
	}
}

// TestPluginCannotLeakSecrets: a plugin that prints its sensitive attribute
// and a value derived from a sensitive variable on stderr, through its
// logger, UI.Log, its outputs and its error: neither reaches the terminal,
// the --json events, the log file or the journal; "(sensitive)" stands in.
func TestPluginCannotLeakSecrets(t *testing.T) {
	t.Parallel()
	const token = "Hunter2-Token"
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			installPlugin(t, h.Path(sitePluginDir), "leaky", fmt.Appendf(nil, "#!/bin/sh\nexec env %s=1 %s\n", envLeakyPlugin, os.Args[0]), 0o755)
			journalCopy := filepath.Join(t.TempDir(), "journal")
			file := h.writePipelineFile("leaky.hcl", fmt.Sprintf(`variable "token" {
  type      = string
  sensitive = true
}

pipeline "leaky" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "leaky" {
    plugin  = "leaky"
    token   = var.token
    note    = "note-${lower(var.token)}"
    journal = %q
    copy    = %q
    fail    = %v
  }
  stage "configure" "after" {
    plugin = "script"
    script = "/etc/vz/conf/${try(stage.leaky.echo, "none")}"
  }
  stage "backup-retention" "retention" {}
}
`, h.Path("vz/lock/101.journal"), journalCopy, fail))
			r := h.cli("--json", "--pipeline", file, "--var", "token="+token, "101")
			if (r.code != 0) != fail {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			logs, _ := filepath.Glob(filepath.Join(h.Path(logDir), "*.log"))
			if len(logs) != 1 {
				t.Fatalf("log files: %v", logs)
			}
			places := map[string]string{
				"stdout (events)": r.stdout,
				"stderr":          r.stderr,
				"log file":        readFile(t, logs[0]),
				"journal":         readFile(t, journalCopy),
			}
			for what, text := range places {
				for _, secret := range []string{token, strings.ToLower(token)} {
					if strings.Contains(text, secret) {
						t.Errorf("%s holds %q:\n%s", what, secret, text)
					}
				}
			}
			if !strings.Contains(places["journal"], `"note":null`) || !strings.Contains(places["journal"], `"token":null`) {
				t.Errorf("the journal does not record the sensitive attributes as null:\n%s", places["journal"])
			}
			for _, want := range []string{"ui: (sensitive) (sensitive)"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the events do not say %q:\n%s", want, r.stdout)
				}
			}
			wantLog := []string{"stderr: (sensitive) (sensitive)", "logger: (sensitive) (sensitive)"}
			if fail {
				wantLog = append(wantLog, "error: (sensitive) (sensitive)")
			}
			for _, want := range wantLog {
				if !strings.Contains(places["log file"], want) {
					t.Errorf("the log does not say %q:\n%s", want, places["log file"])
				}
			}
		})
	}
}

// TestSensitiveValuesInPlanAndValidate: a value derived from a sensitive
// variable is "(sensitive)" in plan and plan --json, and an error that
// quotes it (validate, validate --json) shows "(sensitive)" instead.
func TestSensitiveValuesInPlanAndValidate(t *testing.T) {
	t.Parallel()
	const token = "Hunter2-Token"
	h := newTestHost(t)
	h.createCT()
	head := `variable "token" {
  type      = string
  sensitive = true
}

pipeline "s" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "s" {
    plugin = "script"
`
	planFile := h.writePipelineFile("plan.hcl", head+"    script = \"/etc/vz/site/${lower(var.token)}.sh\"\n  }\n}\n")
	badFile := h.writePipelineFile("bad.hcl", head+"    script = \"/x/${parseint(var.token, 10)}\"\n  }\n}\n")
	runs := map[string]result{
		"plan":            h.mustCLI("plan", "--pipeline", planFile, "--var", "token="+token, "101"),
		"plan --json":     h.mustCLI("plan", "--json", "--pipeline", planFile, "--var", "token="+token, "101"),
		"validate":        h.cli("validate", "--var", "token="+token, badFile),
		"validate --json": h.cli("validate", "--json", "--var", "token="+token, badFile),
	}
	for what, r := range runs {
		out := r.stdout + r.stderr
		if strings.Contains(out, token) || strings.Contains(out, strings.ToLower(token)) {
			t.Errorf("%s shows the secret:\n%s", what, out)
		}
		if !strings.Contains(out, "(sensitive)") {
			t.Errorf("%s does not say (sensitive):\n%s", what, out)
		}
		if strings.HasPrefix(what, "validate") && r.code == 0 {
			t.Errorf("%s accepted parseint of a word", what)
		}
	}
}
