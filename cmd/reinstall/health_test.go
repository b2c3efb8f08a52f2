package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// healthPipeline is the default pipeline with its health stage's
// attributes replaced by body, after the stages given in before.
func healthPipeline(t *testing.T, before, body string) string {
	t.Helper()
	src := string(pipeline.DefaultSource)
	start := strings.Index(src, `  stage "configure" "health" {`)
	end := strings.Index(src[start:], "\n  }\n")
	if start < 0 || end < 0 {
		t.Fatal("the default pipeline has no health stage")
	}
	stage := before + "  stage \"configure\" \"health\" {\n    plugin = \"health\"\n" + body + "\n  }\n"
	return src[:start] + stage + src[start+end+len("\n  }\n"):]
}

// TestHealthFailureRevertsToOldContainer: a health check that fails, or
// hangs, past its wait fails the run after the swap; the old container is
// back, running as it was, byte for byte, and the error names the check
// and its last output.
func TestHealthFailureRevertsToOldContainer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       string // in the last line, after "reinstall: health: health check failed after 2s"
		wantLog    string // the line on stderr saying what the check awaits ("": none)
	}{
		{"failing command", `    command = ["sh", "-c", "echo no ready file; test -f /etc/ready"]
    wait    = "2s"`, "command sh -c echo no ready file; test -f /etc/ready: exit 1: no ready file",
			"    health: command sh -c echo no ready file; test -f /etc/ready: not yet (exit 1: no ready file); retrying for up to 2s\n"},
		{"port not listening", `    tcp  = [8080]
    wait = "2s"`, "tcp 8080: not listening on 8080 (nothing listens)",
			"    health: tcp 8080: not yet (not listening on 8080 (nothing listens)); retrying for up to 2s\n"},
		{"hanging command", `    command = ["sh", "-c", "echo waiting; exec sleep 3600"]
    wait    = "2s"`, "still running when wait ran out: waiting", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.writePrivate("home/customer/unique", "old-data-marker\n", 0o644)
			h.mustCLI("ct", "start", "101")
			before := h.tree("")
			file := h.writePipelineFile("health.hcl", healthPipeline(t, "", tt.body))

			r := h.cli("--stop", "--pipeline", file, "101")
			if r.code != engine.ExitFailed {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, engine.ExitFailed, r.stderr)
			}
			prefix := "reinstall: health: health check failed after 2s"
			if last := r.lastLine(); !strings.HasPrefix(last, prefix) || !strings.Contains(last, tt.want) {
				t.Errorf("last line %q, want %q…%q", last, prefix, tt.want)
			}
			if tt.wantLog != "" && !strings.Contains(r.stderr, tt.wantLog) {
				t.Errorf("stderr does not say what the check awaits (%q):\n%s", tt.wantLog, r.stderr)
			}
			if !strings.Contains(r.stderr, "rolled back: the container is as it was") {
				t.Errorf("no rollback reported:\n%s", r.stderr)
			}
			if st := h.status(); st != "running" {
				t.Errorf("status %q, want running (as before the run)", st)
			}
			assertTree(t, "the old private area", before, h.tree(""))
			if got := h.exec("cat /home/customer/unique"); got != "old-data-marker\n" {
				t.Errorf("the running container is not the old one: %q", got)
			}
			h.assertClean()
		})
	}
}

// TestHealthPassKeepsNewContainer: checks that pass keep the reinstalled
// container (a port opened by an earlier stage is seen from the host), and
// --no-health skips a check that would fail.
func TestHealthPassKeepsNewContainer(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writePrivate("home/customer/unique", "old-data-marker\n", 0o644)
	h.writeHostFile("etc/vz/site/web.sh", "httpd -p 8080 -h /\n", 0o644)
	web := "  stage \"configure\" \"web\" {\n    script = \"/etc/vz/site/web.sh\"\n  }\n\n"
	file := h.writePipelineFile("health.hcl", healthPipeline(t, web, `    command = ["test", "-f", "/etc/motd"]
    tcp     = [8080]
    systemd = "auto"
    wait    = "30s"`))

	r := h.mustCLI("--json", "--pipeline", file, "101")
	var logs, progress []string
	for _, ev := range parseEvents(t, r.stdout) {
		switch {
		case ev.Type == engine.EventStageLog && ev.Stage == "health":
			logs = append(logs, ev.Message)
		case ev.Type == engine.EventStageProgress && ev.Stage == "health":
			progress = append(progress, ev.Message)
		}
	}
	// Progress names each check while it is pending, in order.
	want := []string{"waiting for command test -f /etc/motd", "waiting for tcp 8080", "all checks passed"}
	if d := cmp.Diff(want, slices.Compact(progress)); d != "" {
		t.Errorf("health progress (-want +got):\n%s", d)
	}
	joined := strings.Join(logs, "\n")
	for _, want := range []string{"command test -f /etc/motd: exited 0", "tcp 8080: listening on 8080", "is not systemd: no systemd check"} {
		if !strings.Contains(joined, want) {
			t.Errorf("health log lacks %q:\n%s", want, joined)
		}
	}
	if st := h.status(); st != "running" {
		t.Errorf("status %q, want running", st)
	}
	if got := readFile(t, h.private("old/home/customer/unique")); got != "old-data-marker\n" {
		t.Errorf("/old/home/customer/unique = %q", got)
	}
	h.assertClean()

	failing := h.writePipelineFile("failing.hcl", healthPipeline(t, "", `    command = ["false"]
    wait    = "2s"
    when    = !opts.nohealth`))
	h.mustCLI("--stop", "--no-health", "--pipeline", failing, "101")
	if st := h.status(); st != "running" || !exists(h.private("old/etc/motd")) {
		t.Errorf("--no-health: status %q, /old present %v; want running, reinstalled", st, exists(h.private("old/etc/motd")))
	}
}

// TestHealthKilledRunRecovers: reinstall SIGKILLed while the health stage
// waits for its check (before the point of no return) leaves a journal;
// `reinstall recover` ends what the run left running and brings the old
// container back, running as it was, byte for byte.
func TestHealthKilledRunRecovers(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writePrivate("home/customer/unique", "old-data-marker\n", 0o644)
	h.mustCLI("ct", "start", "101")
	before := h.tree("")
	// A sleep of a length of its own, to find it among the host's processes.
	sleep := fmt.Sprintf("sleep\x00%d\x00", 100000+rand.IntN(800000))
	file := h.writePipelineFile("health.hcl", healthPipeline(t, "", fmt.Sprintf(`    command = ["sh", "-c", "touch /health-tried; exec %s"]
    wait    = "10m"`, strings.ReplaceAll(strings.TrimSuffix(sleep, "\x00"), "\x00", " "))))
	checking := func() []string {
		return scanProcesses(func(pid string) bool {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			return string(cmdline) == sleep
		})
	}

	// The new area is at VE_PRIVATE once swapped: the check ran in the new container.
	h.killDuring(func() bool { return exists(h.private("health-tried")) && len(checking()) > 0 }, "--stop", "--pipeline", file, "101")

	if r := h.cli("status", "101"); !strings.HasPrefix(r.stdout, "container 101: unfinished reinstall") || !strings.Contains(r.stdout, "health") {
		t.Errorf("status after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.cli("--stop", "101"); r.code != engine.ExitRecover {
		t.Errorf("a run after the kill: exit %d, want %d\n%s", r.code, engine.ExitRecover, r.stderr)
	}
	r := h.cli("recover", "101")
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Fatalf("recover: exit %d, %q, want a rollback\n%s", r.code, r.stdout, r.stderr)
	}
	if st := h.status(); st != "running" {
		t.Errorf("status %q after recover, want running (as before the run)", st)
	}
	assertTree(t, "the old private area", before, h.tree(""))
	if got := h.exec("cat /home/customer/unique"); got != "old-data-marker\n" {
		t.Errorf("the running container is not the old one: %q", got)
	}
	if left := checking(); len(left) > 0 {
		t.Errorf("the killed run's check still runs: pids %v", left)
	}
	h.assertClean()
}

// TestHealthPendingCheckOnTerminal: on a terminal, the health stage's line
// names the check it waits for while it waits.
func TestHealthPendingCheckOnTerminal(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	file := h.writePipelineFile("health.hcl", healthPipeline(t, "", `    tcp  = [8080]
    wait = "3s"`))
	out, code := h.cliTerminal("--pipeline", file, "101")
	if code != engine.ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, engine.ExitFailed, out)
	}
	text := stripANSI(out)
	if !regexp.MustCompile(`configure "health" .*waiting for tcp 8080`).MatchString(text) {
		t.Errorf("the health stage's line never named the pending check:\n%s", text)
	}
}
