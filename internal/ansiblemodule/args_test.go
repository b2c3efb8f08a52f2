package ansiblemodule

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReinstallArgs(t *testing.T) {
	for _, tc := range []struct {
		name, args string
		want       []string
	}{
		{"defaults", `{"ctid": 101}`, []string{"--root", "/", "--output=result", "--", "101"}},
		{"everything", `{"name": "web", "root": "/demo", "skipbackup": "yes", "stop": true, "ostemplate": "debian-12",
			"pipeline": "/etc/p.hcl", "vars": {"b": 2, "a": "x"}, "runtime": "vzctl", "request_id": "r1", "max_concurrent": "4",
			"_ansible_verbosity": 0}`,
			[]string{"--root", "/demo", "--runtime", "vzctl", "--output=result", "--request-id", "r1", "--max-concurrent", "4",
				"--skipbackup", "--stop", "--ostemplate", "debian-12", "--pipeline", "/etc/p.hcl", "--var", "a=x", "--var", "b=2", "--", "web"}},
		{"check mode plans", `{"ctid": "101", "request_id": "r1", "stop": "no", "_ansible_check_mode": true}`,
			[]string{"--root", "/", "plan", "--json", "--", "101"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseArgs([]byte(tc.args))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, a.reinstallArgs()); d != "" {
				t.Errorf("argv (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseArgsRefuses(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{`{}`, "give one of ctid and name"},
		{`{"ctid": 101, "name": "web"}`, "give one of ctid and name"},
		{`{"ctid": 101, "colour": "red"}`, `unsupported parameter "colour"`},
		{`{"ctid": 101, "stop": "maybe"}`, "stop: want a boolean"},
		{`{"ctid": 101, "timeout": "soon"}`, "timeout: want a number"},
		{`not json`, "module arguments"},
	} {
		if _, err := ParseArgs([]byte(tc.args)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseArgs(%s) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// Past its timeout the reinstall gets SIGTERM (it rolls back) and the
// module returns what it printed then, saying it timed out.
func TestTimeoutTerminates(t *testing.T) {
	exe := t.TempDir() + "/reinstall"
	script := "#!/bin/sh\ntrap 'kill $!; echo \"{\\\"changed\\\":false,\\\"failed\\\":true,\\\"rc\\\":1,\\\"reason\\\":\\\"interrupted\\\",\\\"msg\\\":\\\"vps-reinstall: interrupted\\\"}\"; exit 1' TERM\nsleep 30 &\nwait\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res := runReinstall(exe, Args{CTID: "101", Root: "/", Timeout: 1})
	if res["rc"] != float64(1) || res["reason"] != "interrupted" || res["failed"] != true ||
		!strings.HasPrefix(res["msg"].(string), "timed out after 1s: vps-reinstall: interrupted") {
		t.Errorf("result %v", res)
	}
}
