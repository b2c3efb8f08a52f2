//go:build linux

package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
		{"vzctl", "VEID 101 exist unmounted down suspended\n", Stopped, ""},
		{"vzctl", "VEID 101 exist mounted down\n", "", "mounted but not running"},
		{"vzctl", "Container is not running\n", "", "unexpected status output"},
		{"vzctl", "", "", "unexpected status output"},
		{"prlctl", "CT 101 exist running\n", Running, ""},
		{"prlctl", "CT 101 exist stopped\n", Stopped, ""},
		{"prlctl", "CT 101 exist suspended\n", "", "neither running nor stopped"},
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
			want: "exec env -i VEID=101 HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SHELL=/bin/sh /bin/sh",
		},
		{
			argv: []string{"/bin/sh", "-c", `echo "it's $HOME" > /x; true`},
			env:  []string{"A=two words", "B="},
			want: `exec env -i 'A=two words' B= /bin/sh -c 'echo "it'\''s $HOME" > /x; true'`,
		},
		{argv: []string{"/bin/true"}, want: "exec env -i /bin/true"},
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

func TestSelectorResolve(t *testing.T) {
	tests := []struct {
		setting string
		onPath  []string
		want    string
	}{
		{"auto", []string{"vzctl", "prlctl"}, "vzctl"},
		{"auto", []string{"prlctl"}, "prlctl"},
		{"auto", nil, "native"},
		{"", []string{"vzctl"}, "vzctl"},
		{"native", []string{"vzctl"}, "native"},
		{"prlctl", []string{"vzctl"}, "prlctl"},
		{"lxc", nil, ""},
	}
	for _, tt := range tests {
		s := Selector{LookPath: func(file string) (string, error) {
			for _, p := range tt.onPath {
				if p == file {
					return "/usr/sbin/" + file, nil
				}
			}
			return "", errors.New("not found")
		}}
		got, err := s.Resolve(tt.setting)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("Resolve(%q) with %v on PATH = %q, %v; want %q", tt.setting, tt.onPath, got, err, tt.want)
		}
	}
}
