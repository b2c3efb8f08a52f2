//go:build linux

package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestToolParseStatus(t *testing.T) {
	tests := []struct {
		tool    string
		out     string
		want    State
		wantErr string
	}{
		{"vzctl", "VEID 101 exist mounted running\n", Running, ""},
		{"vzctl", "VEID 101 exist unmounted down\n", Stopped, ""},
		{"vzctl", "CTID 101 exist mounted running\n", Running, ""}, // legacy vzctl
		{"vzctl", "VEID 101 deleted unmounted down\n", Stopped, ""},
		{"vzctl", "CTID 101 exist unmounted down suspended\n", "", "container 101 is suspended (a checkpoint dump exists): resume it or remove the dump first"},
		{"vzctl", "VEID 101 exist mounted running suspended\n", "", "container 101 is suspended"},
		{"vzctl", "VEID 101 exist unmounted down hibernated\n", "", "unexpected status output"},
		{"vzctl", "VEID 101 exist mounted down\n", "", "mounted but not running"},
		{"vzctl", "Container is not running\n", "", "unexpected status output"},
		{"vzctl", "", "", "unexpected status output"},
		{"prlctl", "CT 101 exist running\n", Running, ""},
		{"prlctl", "CT 101 exist stopped\n", Stopped, ""},
		{"prlctl", "CT 101 exist suspended\n", "", "container 101 is suspended (a checkpoint dump exists): resume it or remove the dump first"},
		{"prlctl", "CT 101 exist mounted\n", "", "neither running nor stopped"},
		{"prlctl", "VM 101 exist running\n", "", "unexpected status output"},
		{"prlctl", "garbage", "", "unexpected status output"},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+strings.TrimSpace(tt.out), func(t *testing.T) {
			var d toolDialect = vzctlDialect{}
			if tt.tool == "prlctl" {
				d = prlctlDialect{}
			}
			got, err := d.parseStatus(tt.out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestExecCommandLine(t *testing.T) {
	tests := []struct {
		argv, env []string
		want      string
		wantErr   bool
	}{
		{
			argv: []string{"/bin/sh"},
			env:  []string{"VEID=101", "HOME=/", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh"},
			want: "exec env -i -- VEID=101 HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SHELL=/bin/sh /bin/sh",
		},
		{
			argv: []string{"/bin/sh", "-c", `echo "it's $HOME" > /x; true`},
			env:  []string{"A=two words", "B="},
			want: `exec env -i -- 'A=two words' B= /bin/sh -c 'echo "it'\''s $HOME" > /x; true'`,
		},
		{argv: []string{"/bin/true"}, want: "exec env -i -- /bin/true"},
		{argv: []string{"-x", "-i"}, want: "exec env -i -- -x -i"},
		{argv: nil, wantErr: true},
		{argv: []string{"A=B"}, wantErr: true},
		{argv: []string{"/bin/true"}, env: []string{"NOVALUE"}, wantErr: true},
		{argv: []string{"/bin/true"}, env: []string{"BAD NAME=x"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ExecCommandLine(tt.argv, tt.env)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ExecCommandLine(%q, %q) = %q, %v; want %q (error %v)", tt.argv, tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

// scriptedTool writes a tool script into a temporary directory that records
// its argv (one line per call, arguments tab-separated) and keeps a
// container's state in a file.
func scriptedTool(t *testing.T, body string) (path, calls, state string) {
	t.Helper()
	dir := t.TempDir()
	path, calls, state = filepath.Join(dir, "tool"), filepath.Join(dir, "calls"), filepath.Join(dir, "state")
	script := "#!/bin/sh\n(IFS=\"$(printf '\\t')\"; echo \"$*\") >> " + calls + "\nstate=" + state + "\n" + body
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, calls, state
}

func readCalls(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		calls = append(calls, strings.Split(l, "\t"))
	}
	return calls
}

// TestToolStopEscalates: vzctl stop gets grace to finish; past it, it is
// killed and vzctl stop --fast follows.
func TestToolStopEscalates(t *testing.T) {
	path, calls, state := scriptedTool(t, `case "$*" in
"status 101") if [ "$(cat $state)" = running ]; then echo "VEID 101 exist mounted running"; else echo "VEID 101 exist unmounted down"; fi ;;
"--skiplock stop 101") sleep 60 ;;
"--skiplock stop 101 --fast") echo down > $state ;;
esac
`)
	os.WriteFile(state, []byte("running\n"), 0o644)
	tool := NewVzctl(path, "/nonexistent/vzlist")
	if err := tool.Stop(context.Background(), 101, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"status", "101"},
		{"--skiplock", "stop", "101"},
		{"--skiplock", "stop", "101", "--fast"},
		{"status", "101"},
	}
	if d := cmp.Diff(want, readCalls(t, calls)); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

// TestToolExecPassesCodeAndStdin: the command's exit code and output come
// back, stdin reaches it, and a stopped container is ErrNotRunning.
func TestToolExecPassesCodeAndStdin(t *testing.T) {
	path, _, state := scriptedTool(t, `case "$1" in
status) echo "CT $2 exist $(cat $state)" ;;
exec) exec /bin/sh -c "$3" ;;
esac
`)
	tool := NewPrlctl(path)
	os.WriteFile(state, []byte("stopped\n"), 0o644)
	if _, err := tool.Exec(context.Background(), 101, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("exec when stopped: %v, want ErrNotRunning", err)
	}
	os.WriteFile(state, []byte("running\n"), 0o644)
	var out strings.Builder
	code, err := tool.Exec(context.Background(), 101, ExecRequest{
		Argv:   []string{"/bin/sh", "-c", `read line; echo "$line $VEID $HOME"; exit 5`},
		Env:    []string{"VEID=101"},
		Stdin:  strings.NewReader("from stdin\n"),
		Stdout: &out,
	})
	if err != nil || code != 5 || out.String() != "from stdin 101 \n" {
		t.Errorf("exec = %d, %v, stdout %q; want 5, stdout \"from stdin 101 \\n\"", code, err, out.String())
	}
}

// TestToolExecDashCommand: through a real shell and env, a command whose
// name starts with "-" is run, with and without environment entries, never
// read as an option of env.
func TestToolExecDashCommand(t *testing.T) {
	path, _, state := scriptedTool(t, `case "$1" in
status) echo "CT $2 exist running" ;;
exec) exec /bin/sh -c "$3" ;;
esac
`)
	os.WriteFile(state, []byte("running\n"), 0o644)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "-probe"), []byte("#!/bin/sh\necho \"probe $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tool := NewPrlctl(path)
	tests := []struct {
		name     string
		req      ExecRequest
		wantCode int
		wantOut  string
		wantErr  string // in the command's stderr
	}{
		// Found on the given PATH and run with its own options.
		{"with env", ExecRequest{Argv: []string{"-probe", "-i"}, Env: []string{"PATH=" + bin}}, 0, "probe -i\n", ""},
		// No PATH to find it on: env tries to run it (127), not to parse it (125).
		{"without env", ExecRequest{Argv: []string{"-probe"}}, 127, "", "-probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			tt.req.Stdout, tt.req.Stderr = &stdout, &stderr
			code, err := tool.Exec(context.Background(), 101, tt.req)
			if err != nil || code != tt.wantCode || stdout.String() != tt.wantOut || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exec %q = %d, %v, stdout %q, stderr %q; want %d, stdout %q, stderr with %q",
					tt.req.Argv, code, err, stdout.String(), stderr.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

// TestToolListAndErrors: List reads the CTIDs a tool prints; a failing tool
// is one line naming the tool, its argv and its stderr.
func TestToolListAndErrors(t *testing.T) {
	path, calls, _ := scriptedTool(t, `case "$1" in
list) printf '       101\n       102\n{8f3c...}\n' ;;
start) echo "first line" >&2; echo "Unable to start: no luck" >&2; exit 9 ;;
esac
`)
	tool := NewPrlctl(path)
	infos, err := tool.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Info{{CTID: 101}, {CTID: 102}}, infos); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}
	if d := cmp.Diff([][]string{{"list", "-H", "-o", "envid", "--vmtype", "ct"}}, readCalls(t, calls)); d != "" {
		t.Errorf("list argv (-want +got):\n%s", d)
	}
	_, err = tool.runChecked(context.Background(), tool.dialect.start(101), nil)
	want := "prlctl start 101 failed (exit 9): first line; Unable to start: no luck"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestSelectorResolve: on the real host (root "/" or unset) auto is vzctl,
// else prlctl, else native, as the caller's PATH has them; under any other
// root it is native whatever is on PATH; a named runtime is itself.
func TestSelectorResolve(t *testing.T) {
	tests := []struct {
		root, setting string
		onPath        []string
		want          string
	}{
		{"/", "auto", []string{"vzctl", "prlctl"}, "vzctl"},
		{"/", "auto", []string{"prlctl"}, "prlctl"},
		{"/", "auto", nil, "native"},
		{"/", "", []string{"vzctl"}, "vzctl"},
		{"", "auto", []string{"prlctl", "vzctl"}, "vzctl"},
		{"/.", "auto", []string{"prlctl"}, "prlctl"},
		{"/tmp/demo", "auto", []string{"vzctl", "prlctl"}, "native"},
		{"/tmp/demo", "", []string{"prlctl"}, "native"},
		{"/", "native", []string{"vzctl"}, "native"},
		{"/", "prlctl", []string{"vzctl"}, "prlctl"},
		{"/tmp/demo", "vzctl", []string{"vzctl"}, "vzctl"},
		{"/", "lxc", nil, "lxc"},
		{"/tmp/demo", "lxc", []string{"vzctl"}, "lxc"},
		{"/", "lxd", nil, ""},
	}
	for _, tt := range tests {
		s := Selector{Root: tt.root, LookPath: fakeLookPath(tt.onPath)}
		got, err := s.Resolve(tt.setting)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("Resolve(%q) under root %q with %v on PATH = %q, %v; want %q", tt.setting, tt.root, tt.onPath, got, err, tt.want)
		}
	}
}

// TestSelectorNotices: under a root other than "/", auto says at debug
// level why it is native, and a tool named explicitly is built with a
// warning that it acts on the real host; on the real host neither is said.
func TestSelectorNotices(t *testing.T) {
	tests := []struct {
		root, setting string
		wantName      string
		wantDebug     []string
		wantWarn      []string
	}{
		{"/tmp/demo", "auto", "native",
			[]string{`runtime auto: native, as the host root /tmp/demo is not "/" (vzctl and prlctl act on the real host's containers)`}, nil},
		{"/tmp/demo", "vzctl", "vzctl",
			nil, []string{"runtime vzctl acts on the real host's containers, not on those under the host root /tmp/demo"}},
		{"/tmp/demo", "prlctl", "prlctl",
			nil, []string{"runtime prlctl acts on the real host's containers, not on those under the host root /tmp/demo"}},
		{"/tmp/demo", "native", "native", nil, nil},
		{"/", "auto", "vzctl", nil, nil},
		{"/", "prlctl", "prlctl", nil, nil},
	}
	for _, tt := range tests {
		var debug, warn []string
		s := Selector{
			Root: tt.root, StateDir: t.TempDir(), LookPath: fakeLookPath([]string{"vzctl", "prlctl"}),
			Debug: func(msg string) { debug = append(debug, msg) },
			Warn:  func(msg string) { warn = append(warn, msg) },
		}
		rt, name, err := s.New(tt.setting)
		if err != nil || name != tt.wantName || rt == nil {
			t.Errorf("New(%q) under root %q = %v, %q, %v; want %q", tt.setting, tt.root, rt, name, err, tt.wantName)
			continue
		}
		if d := cmp.Diff(tt.wantDebug, debug); d != "" {
			t.Errorf("New(%q) under root %q: debug (-want +got):\n%s", tt.setting, tt.root, d)
		}
		if d := cmp.Diff(tt.wantWarn, warn); d != "" {
			t.Errorf("New(%q) under root %q: warnings (-want +got):\n%s", tt.setting, tt.root, d)
		}
	}
}

// fakeLookPath finds the tools onPath under /usr/sbin and nothing else.
func fakeLookPath(onPath []string) func(string) (string, error) {
	return func(file string) (string, error) {
		if slices.Contains(onPath, file) {
			return "/usr/sbin/" + file, nil
		}
		return "", errors.New("not found")
	}
}
