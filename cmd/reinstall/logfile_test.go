package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// logSuffixRE is what the last line on stderr ends with: the run's log file.
var logSuffixRE = regexp.MustCompile(` \(log: (/\S+\.log)\)$`)

// withoutLogSuffix is a last stderr line without the log file it names.
func withoutLogSuffix(line string) string { return logSuffixRE.ReplaceAllString(line, "") }

// Every run of a known container writes its log file: 0600 in a 0700
// directory, named by the CTID and the UTC start, holding every event at
// every level (the scripts' stdout and stderr, vps.configure's output,
// the plugins' debug lines), the host's debug log and the result. A failed
// run's last line names it.
func TestRunLogFile(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\necho hook to stdout\necho hook to stderr >&2\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "echo configure to stdout\necho configure to stderr >&2\n", 0o644)
	h.mustCLI("--quiet", "101") // nothing on the terminal, everything in the file

	files := h.logFiles("101")
	if len(files) != 1 {
		t.Fatalf("log files %v, want one", files)
	}
	if !regexp.MustCompile(`/var/log/reinstall/101-\d{8}T\d{6}Z\.log$`).MatchString(files[0]) {
		t.Errorf("log file name %s, want <root>/var/log/reinstall/101-<YYYYMMDDThhmmssZ>.log", files[0])
	}
	for path, want := range map[string]os.FileMode{filepath.Dir(files[0]): os.ModeDir | 0o700, files[0]: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, want)
		}
	}
	log := readFile(t, files[0])
	for _, want := range []string{
		"[INFO]  reinstall.vps-reinstall: hook to stdout",
		"[WARN]  reinstall.vps-reinstall: hook to stderr",
		"[INFO]  reinstall.vps-configure: configure to stdout",
		"[WARN]  reinstall.vps-configure: configure to stderr",
		"reinstall.event: stage-started: ", "stage=vps-configure",
		"[DEBUG] reinstall.plugin", // the host's log at debug level, though --log-level is warn
		"reinstall.event: run-finished: ",
		"[INFO]  reinstall: finished: exit_code=0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log file lacks %q:\n%s", want, log)
		}
	}

	h.mustCLI("ct", "stop", "101")
	h.writeScript("vps.reinstall", "#!/bin/sh\necho about to fail\nexit 3\n", 0o755)
	r := h.cli("101")
	m := logSuffixRE.FindStringSubmatch(r.lastLine())
	if r.code != 1 || m == nil || !strings.HasPrefix(r.lastLine(), "reinstall: vps-reinstall: ") {
		t.Fatalf("exit %d, last line %q: want 1 and \"reinstall: vps-reinstall: ... (log: FILE)\"", r.code, r.lastLine())
	}
	failed := readFile(t, m[1])
	for _, want := range []string{"reinstall.vps-reinstall: about to fail", "[ERROR] reinstall: " + withoutLogSuffix(strings.TrimPrefix(r.lastLine(), "reinstall: "))} {
		if !strings.Contains(failed, want) {
			t.Errorf("the failed run's log file lacks %q:\n%s", want, failed)
		}
	}
	if got := h.logFiles("101"); len(got) != 2 {
		t.Errorf("log files %v, want one per run", got)
	}
}

// A plugin's debug and trace lines are in the log file, not on stderr.
func TestRunLogFileHasDebugAndTraceLines(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	env, file := h.flakyPipeline("configure", "")
	r := h.cliEnv(env, "--pipeline", file, "101")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	log := readFile(t, h.logFiles("101")[0])
	for _, want := range []string{"[DEBUG] reinstall.flaky: flaky: a debug line", "[TRACE] reinstall.flaky: flaky: a trace line"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log file lacks %q:\n%s", want, log)
		}
		if line := want[strings.Index(want, "flaky: a"):]; strings.Contains(r.stderr, line) {
			t.Errorf("%q is on stderr:\n%s", line, r.stderr)
		}
	}
}
