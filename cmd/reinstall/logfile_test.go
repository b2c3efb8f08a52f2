package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reinstall-dev/reinstall/internal/vz"
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

// The log directory is used only as a directory of this user's, never
// through a symlink: a symlink, a file or another user's directory in its
// place leaves the run without a log file (and what the symlink points to
// untouched), and a directory of ours opened too wide is made 0700.
func TestRunLogDirectoryIsNotFollowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, elsewhere string)
		err   string // "" for a log file
	}{
		{"a symlink", func(t *testing.T, dir, elsewhere string) {
			must(t, os.Symlink(elsewhere, dir))
		}, "is not a directory (a symlink?)"},
		{"a symlink to a missing directory", func(t *testing.T, dir, elsewhere string) {
			must(t, os.Remove(elsewhere))
			must(t, os.Symlink(elsewhere, dir))
		}, "is not a directory (a symlink?)"},
		{"a file", func(t *testing.T, dir, _ string) {
			must(t, os.WriteFile(dir, nil, 0o600))
		}, "is not a directory"},
		{"another user's directory", func(t *testing.T, dir, _ string) {
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chown(dir, 65534, 65534))
		}, "is owned by uid 65534"},
		{"our directory, 0777", func(t *testing.T, dir, _ string) {
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chmod(dir, 0o777))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			h, err := vz.OpenHost(root)
			must(t, err)
			dir, elsewhere := h.Path(logDir), filepath.Join(root, "elsewhere")
			must(t, os.MkdirAll(filepath.Dir(dir), 0o755))
			must(t, os.Mkdir(elsewhere, 0o755))
			tc.setup(t, dir, elsewhere)
			l, err := openRunLog(h, 101, time.Now(), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("openRunLog: %v, want an error saying %q", err, tc.err)
				}
				if l != nil {
					l.close()
				}
			} else {
				if err != nil {
					t.Fatalf("openRunLog: %v", err)
				}
				l.close()
				if filepath.Dir(l.path) != dir {
					t.Errorf("log file %s, want one in %s", l.path, dir)
				}
				for path, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, l.path: 0o600} {
					if fi, err := os.Lstat(path); err != nil || fi.Mode() != want {
						t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, want)
					}
				}
			}
			if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
				t.Errorf("%s, where the symlink points, holds %v", elsewhere, entries)
			}
			if fi, err := os.Lstat(elsewhere); err == nil && fi.Mode() != os.ModeDir|0o755 {
				t.Errorf("%s, where the symlink points, is now %v", elsewhere, fi.Mode())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
