package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// Bytes from inside a container or from its config are the customer's: any
// byte sequence, UTF-8 or not, travels between the host and its plugins,
// lands byte for byte in files and is shown escaped to people.

// latin1 is "José" in ISO-8859-1: the é is the lone byte 0xe9, no UTF-8.
const latin1 = "Jos\xe9"

// A customer's own Latin-1 account in the old /etc/passwd is merged into
// the new one with its bytes unchanged, and the run reports it escaped.
func TestLatin1AccountMergedByteExact(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	account := latin1 + ":x:1000:1000::/home/jose:/bin/sh\n"
	h.writePrivate("etc/passwd", templatePasswd+account, 0o644)

	r := h.mustCLI("101")
	if got, want := readFile(t, h.private("etc/passwd")), templatePasswd+account; got != want {
		t.Errorf("the new /etc/passwd:\n%q, want\n%q", got, want)
	}
	if !strings.Contains(r.stderr, `Jos\xe9`) {
		t.Errorf("the merged account is not shown escaped:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, latin1) {
		t.Errorf("stderr holds the raw Latin-1 byte:\n%q", r.stderr)
	}
	h.assertClean()
}

// Latin-1 lines printed by vps.reinstall, vps.configure and a reinstall.d
// hook (itself named in Latin-1, and named so in --scripts) reach the
// terminal, the log file and --json escaped, never failing the run.
func TestLatin1ScriptOutput(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.writeScript("vps.reinstall", "#!/bin/sh\nprintf 'Jos\\351 from vps.reinstall\\n'\nprintf 'Jos\\351 on stderr\\n' >&2\n", 0o755)
	h.writeScript("vps.configure", "printf 'Jos\\351 from vps.configure\\n'\n", 0o644)
	h.writeHook("hook-"+latin1+".sh", "printf 'Jos\\351 from a hook\\n'\n", 0o755)

	r := h.mustCLI("101")
	for _, want := range []string{`vps-reinstall: Jos\xe9 from vps.reinstall`, `vps-reinstall: Jos\xe9 on stderr`,
		`vps-configure: Jos\xe9 from vps.configure`, `reinstall-scripts: Jos\xe9 from a hook`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, latin1) {
		t.Errorf("stderr holds the raw Latin-1 byte:\n%q", r.stderr)
	}
	if want := `running the host hook hook-Jos\xe9.sh`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	log := readFile(t, h.logFiles("101")[0])
	if !strings.Contains(log, `Jos\xe9 from vps.configure`) || strings.Contains(log, latin1) {
		t.Errorf("the log file does not show the line escaped:\n%q", log)
	}

	h.mustCLI("ct", "stop", "101")
	var messages []string
	for _, ev := range parseEvents(t, h.mustCLI("--json", "--scripts", "hook-"+latin1+".sh", "101").stdout) {
		if ev.Type == "stage-log" && strings.Contains(ev.Message, "Jos") && !strings.Contains(ev.Message, "hook-Jos") {
			messages = append(messages, ev.Stage+": "+ev.Message)
		}
	}
	for _, want := range []string{`vps-reinstall: Jos\xe9 from vps.reinstall`, `vps-configure: Jos\xe9 from vps.configure`, `reinstall-scripts: Jos\xe9 from a hook`} {
		if !containsString(messages, want) {
			t.Errorf("--json stage-log messages lack %q: %q", want, messages)
		}
	}
	h.assertClean()
}

// A Latin-1 DESCRIPTION in the container's config travels to the stages
// without failing the run; a Latin-1 HOSTNAME, which sethostname and
// /etc/hostname cannot take, is refused (before the swap or by a rollback
// that succeeds), shown escaped, and leaves the container as it was.
func TestLatin1ConfigValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, config string
		ok           bool
	}{
		{"DESCRIPTION", "HOSTNAME=ct101.example\nDESCRIPTION=\"Serveur de " + latin1 + "\"\n", true},
		{"HOSTNAME", "HOSTNAME=\"" + latin1 + ".example\"\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			config := "OSTEMPLATE=" + testenv.DefaultTemplate + "\nINIT=/sbin/test-init\n" + tt.config
			if err := h.WriteConfig(101, config); err != nil {
				t.Fatal(err)
			}
			before := h.tree("")
			r := h.cli("101")
			switch {
			case tt.ok && r.code != 0:
				t.Fatalf("exit %d, want 0\n%s", r.code, r.stderr)
			case !tt.ok && (r.code != engine.ExitFailed && r.code != engine.ExitRefused):
				t.Fatalf("exit %d, want %d or %d\n%s", r.code, engine.ExitRefused, engine.ExitFailed, r.stderr)
			case !tt.ok:
				if !strings.Contains(r.lastLine(), `Jos\xe9`) {
					t.Errorf("the last line does not show the hostname escaped: %q", r.lastLine())
				}
				assertTree(t, "the private area", before, h.tree(""))
			}
			if strings.Contains(r.stderr, latin1) {
				t.Errorf("stderr holds the raw Latin-1 byte:\n%q", r.stderr)
			}
			h.assertClean()
		})
	}
}

func containsString(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// A vps.configure larger than gRPC's 4 MiB limit of a message runs whole:
// here a 5 MiB here-document lands byte for byte in the new container.
func TestLargeConfigureRunsWhole(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	var data strings.Builder
	for i := 0; data.Len() < 5<<20; i++ {
		fmt.Fprintf(&data, "line %07d of a large configure script\n", i)
	}
	h.writeScript("vps.reinstall", "#!/bin/sh\nexit 0\n", 0o755)
	h.writeScript("vps.configure", "cat > /big <<'DATA'\n"+data.String()+"DATA\necho configured\n", 0o644)
	r := h.mustCLI("101")
	if got := readFile(t, h.private("big")); got != data.String() {
		t.Errorf("/big holds %d bytes, want the script's %d", len(got), data.Len())
	}
	if !strings.Contains(r.stderr, "vps-configure: configured") {
		t.Errorf("the script did not run to its end:\n%s", r.stderr)
	}
	h.assertClean()
}

// A hook that floods its output (here 4 MiB of "y" lines, the shortest
// there are) prints at most MaxStageOutput to the terminal and to the log
// file, then one line saying how much was dropped and its last lines: the
// output is not amplified past about twice its size.
func TestOutputFloodIsCapped(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	const flood = 4 << 20
	h.writeHook("flood.sh", fmt.Sprintf("yes | head -c %d\necho the last line\n", flood), 0o755)
	r := h.mustCLI("101")
	log := readFile(t, h.logFiles("101")[0])
	t.Logf("a flood of %d bytes: %d bytes on stderr, %d in the log file", flood, len(r.stderr), len(log))
	for what, out := range map[string]string{"stderr": r.stderr, "the log file": log} {
		if len(out) > 2*flood {
			t.Errorf("%s holds %d bytes for a flood of %d", what, len(out), flood)
		}
		for _, want := range []string{"of output not shown: a stage prints at most 16.0 MiB to the terminal and the log; its last 20 lines:", "reinstall-scripts: the last line"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", what, want)
			}
		}
	}
	h.assertClean()
}
