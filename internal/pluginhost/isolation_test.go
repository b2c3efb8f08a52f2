package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

func TestChecksumPin(t *testing.T) {
	sum := sha256Hex(t, os.Args[0])
	marker := filepath.Join(t.TempDir(), "ran")
	l := newLauncher(t)
	l.Env = []string{DefaultPath, envBehaviour + "=testplugin", envMarker + "=" + marker}

	wrong := strings.Repeat("0", 64)
	_, err := l.Launch(t.Context(), Spec{Name: "pinned", Path: os.Args[0], SHA256: wrong}, newFakeServices())
	want := fmt.Sprintf("plugin pinned: refusing to start %s: its SHA-256 is %s, but %s is pinned", os.Args[0], sum, wrong)
	if err == nil || err.Error() != want {
		t.Fatalf("Launch error:\n got %v\nwant %s", err, want)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the refused plugin ran (marker: %v)", err)
	}

	p := launch(t, l, Spec{Name: "pinned", Path: os.Args[0], SHA256: strings.ToUpper(sum)}, newFakeServices())
	if _, err := p.Info(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the pinned plugin did not run: %v", err)
	}
}

func TestEnvironmentAllowlist(t *testing.T) {
	t.Setenv("FOO_SECRET", "hunter2")
	for _, tt := range []struct {
		name string
		env  []string
		want []string
	}{
		{name: "default", want: []string{DefaultPath}},
		{name: "allowlist", env: []string{"PATH=/bin", "LANG=C.UTF-8"}, want: []string{"PATH=/bin", "LANG=C.UTF-8"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLauncher(t)
			l.Env = tt.env
			p := launch(t, l, Spec{Name: "testplugin"}, newFakeServices())
			res, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{"mode":"env"}`), sdk.RunContext{StageName: "env"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range strings.Split(res.Outputs["env"], "\x00") {
				// go-plugin's own handshake variables are expected.
				if !strings.HasPrefix(kv, "PLUGIN_") && !strings.HasPrefix(kv, sdk.Handshake.MagicCookieKey+"=") {
					got = append(got, kv)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plugin environment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSocketDir(t *testing.T) {
	l := newLauncher(t)
	l.SocketDir = "/tmp/" + strings.Repeat("x", 70)
	_, err := l.Launch(t.Context(), Spec{Name: "testplugin"}, newFakeServices())
	if err == nil || !strings.Contains(err.Error(), "is too long") {
		t.Fatalf("Launch error = %v, want a too-long socket directory", err)
	}
	l = newLauncher(t)
	p := launch(t, l, Spec{Name: "testplugin"}, newFakeServices())
	fi, err := os.Stat(l.SocketDir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir %s: %v, %v; want mode 0700", l.SocketDir, fi.Mode(), err)
	}
	entries, _ := os.ReadDir(l.SocketDir)
	if len(entries) == 0 {
		t.Errorf("no plugin socket directory under %s", l.SocketDir)
	}
	_ = p.Close()
	if entries, _ := os.ReadDir(l.SocketDir); len(entries) != 0 {
		t.Errorf("sockets left after Close: %v", entries)
	}
}

// The connection to a plugin has no TLS: only who can enter the socket
// directory can connect, so a directory that is not ours, or a symlink to
// one, is refused before any plugin starts.
func TestSocketDirMustBeOurs(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    string
	}{
		{"owned by another user", func(t *testing.T, dir string) {
			must(t, os.Mkdir(dir, 0o700))
			must(t, os.Chown(dir, 65534, 65534))
		}, "belongs to uid 65534"},
		{"symlink to a directory", func(t *testing.T, dir string) {
			must(t, os.Mkdir(dir+".real", 0o700))
			must(t, os.Symlink(dir+".real", dir))
		}, "must be a real directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLauncher(t)
			tt.prepare(t, l.SocketDir)
			_, err := l.Launch(t.Context(), Spec{Name: "testplugin"}, newFakeServices())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Launch error = %v, want %q", err, tt.want)
			}
			if got := leftoverPlugins(); len(got) > 0 {
				t.Errorf("a plugin started anyway: %v", got)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	p := launch(t, newLauncher(t), Spec{Name: "testplugin"}, newFakeServices())
	pid := p.Pid()
	for i := 0; i < 2; i++ {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if p.Alive() {
		t.Error("Alive after Close")
	}
	assertGone(t, pid, 0)
	if _, err := p.Info(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Info after Close error = %v, want ErrClosed", err)
	}
}

func TestCgroup(t *testing.T) {
	const root = "/sys/fs/cgroup/unified"
	if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
		t.Skipf("no cgroup2 hierarchy at %s", root)
	}
	dir := filepath.Join(root, fmt.Sprintf("reinstall-pluginhost-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	l := newLauncher(t)
	l.CgroupDir = dir
	p := launch(t, l, Spec{Name: "testplugin"}, newFakeServices())
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0::/" + filepath.Base(dir) + "\n"; !strings.Contains(string(data), want) {
		t.Errorf("plugin cgroups:\n%s\nwant a line %q", data, want)
	}
	_ = p.Close()
}
