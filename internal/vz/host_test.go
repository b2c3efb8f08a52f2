package vz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newTestHost opens a Host on a fresh temporary root; vzconf, when not
// empty, is written as its /etc/vz/vz.conf.
func newTestHost(t *testing.T, vzconf string) *Host {
	t.Helper()
	root := t.TempDir()
	mustMkdir(t, filepath.Join(root, "etc/vz/conf"))
	if vzconf != "" {
		mustWrite(t, filepath.Join(root, "etc/vz/vz.conf"), vzconf)
	}
	h, err := OpenHost(root)
	if err != nil {
		t.Fatalf("OpenHost: %v", err)
	}
	return h
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenHost(t *testing.T) {
	tests := []struct {
		name        string
		vzconf      string // "" : no vz.conf at all
		wantLock    string // relative to the root
		wantTmpl    string
		wantErrPart string
	}{
		{name: "no vz.conf", wantLock: "vz/lock", wantTmpl: "vz/template"},
		{name: "defaults", vzconf: "# nothing\nVE_LAYOUT=simfs\n", wantLock: "vz/lock", wantTmpl: "vz/template"},
		{name: "custom", vzconf: "LOCKDIR=\"/var/lib/vz/lock\"\nTEMPLATE=/srv/tmpl/\n", wantLock: "var/lib/vz/lock", wantTmpl: "srv/tmpl"},
		{name: "dotdot cannot climb out", vzconf: "LOCKDIR=/../../lock\n", wantLock: "lock", wantTmpl: "vz/template"},
		{name: "relative LOCKDIR", vzconf: "LOCKDIR=vz/lock\n", wantErrPart: "LOCKDIR"},
		{name: "empty TEMPLATE", vzconf: "TEMPLATE=\n", wantErrPart: "TEMPLATE"},
		{name: "syntax error", vzconf: "LOCKDIR=/vz/lock\nbroken\n", wantErrPart: "vz.conf: line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.vzconf != "" {
				mustWrite(t, filepath.Join(root, "etc/vz/vz.conf"), tt.vzconf)
			}
			h, err := OpenHost(root)
			if tt.wantErrPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrPart) {
					t.Fatalf("OpenHost error = %v, want one containing %q", err, tt.wantErrPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{h.Root, h.LockDir, h.TemplateDir}
			want := []string{root, filepath.Join(root, tt.wantLock), filepath.Join(root, tt.wantTmpl)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Root, LockDir, TemplateDir mismatch (-want +got):\n%s", diff)
			}
			if h.Global == nil {
				t.Error("Global is nil")
			}
		})
	}
}

func TestOpenHostRoot(t *testing.T) {
	h, err := OpenHost("")
	if err != nil {
		t.Fatalf(`OpenHost(""): %v`, err)
	}
	if h.Root != "/" {
		t.Errorf(`OpenHost("").Root = %q, want "/"`, h.Root)
	}

	dir := t.TempDir()
	mustMkdir(t, filepath.Join(dir, "r"))
	t.Chdir(dir)
	h, err = OpenHost("r")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "r"); h.Root != want {
		t.Errorf(`OpenHost("r").Root = %q, want %q`, h.Root, want)
	}

	if _, err := OpenHost(filepath.Join(dir, "missing")); err == nil {
		t.Error("OpenHost of a missing root succeeded")
	}
}

func TestHostPaths(t *testing.T) {
	sys := &Host{Root: "/", LockDir: "/vz/lock"}
	under := &Host{Root: "/tmp/r", LockDir: "/tmp/r/vz/lock"}
	tests := []struct{ name, got, want string }{
		{"Path root /", sys.Path("/etc/vz/x"), "/etc/vz/x"},
		{"Path", under.Path("/etc/vz/x"), "/tmp/r/etc/vz/x"},
		{"Path dotdot", under.Path("/../../etc/passwd"), "/tmp/r/etc/passwd"},
		{"Path relative", under.Path("etc/vz"), "/tmp/r/etc/vz"},
		{"ConfigPath", under.ConfigPath(101), "/tmp/r/etc/vz/conf/101.conf"},
		{"ConfigPath root /", sys.ConfigPath(101), "/etc/vz/conf/101.conf"},
		{"NamePath", under.NamePath("web"), "/tmp/r/etc/vz/names/web"},
		{"ScriptPath", under.ScriptPath("vps.reinstall"), "/tmp/r/etc/vz/conf/vps.reinstall"},
		{"LockPath", under.LockPath(101), "/tmp/r/vz/lock/101.lck"},
		{"JournalPath", under.JournalPath(101), "/tmp/r/vz/lock/101.journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
