package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeWrapper writes an external plugin script that runs this test binary
// as the test plugin, creating marker first.
func writeWrapper(t *testing.T, dir, marker string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "reinstall-plugin-wrapped")
	script := fmt.Sprintf("#!/bin/sh\n: > %s\nexec env %s=testplugin %s \"$@\"\n", marker, envBehaviour, os.Args[0])
	if err := os.WriteFile(path, []byte(script), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUntrustedPluginFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir, file string) string // returns the path to launch
		want    string                                      // "" means the launch succeeds
	}{
		{name: "trusted script", prepare: func(t *testing.T, dir, file string) string { return file }},
		{name: "symlink to a trusted file", prepare: func(t *testing.T, dir, file string) string {
			link := filepath.Join(dir, "link")
			if err := os.Symlink(file, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
		{name: "group-writable", want: "it is writable by group or others (mode 0775; chmod go-w", prepare: func(t *testing.T, dir, file string) string {
			must(t, os.Chmod(file, 0o775))
			return file
		}},
		{name: "not root's", want: "it is owned by uid 1000, not root", prepare: func(t *testing.T, dir, file string) string {
			must(t, os.Chown(file, 1000, 1000))
			return file
		}},
		{name: "not executable", want: "it is not executable (mode 0644", prepare: func(t *testing.T, dir, file string) string {
			must(t, os.Chmod(file, 0o644))
			return file
		}},
		{name: "writable directory", want: "is writable by group or others (mode 0777)", prepare: func(t *testing.T, dir, file string) string {
			must(t, os.Chmod(dir, 0o777))
			return file
		}},
		{name: "directory not root's", want: "is owned by uid 1000, not root", prepare: func(t *testing.T, dir, file string) string {
			must(t, os.Chown(dir, 1000, 1000))
			return file
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := os.MkdirTemp("", "trust")
			must(t, err)
			t.Cleanup(func() { os.RemoveAll(base) })
			dir := filepath.Join(base, "plugins")
			must(t, os.Mkdir(dir, 0o755))
			marker := filepath.Join(base, "ran")
			path := tt.prepare(t, dir, writeWrapper(t, dir, marker, 0o755))
			checkErr := CheckTrusted(path)
			p, err := newLauncher(t).Launch(t.Context(), Spec{Name: "wrapped", Path: path}, newFakeServices())
			if tt.want == "" {
				if err != nil || checkErr != nil {
					t.Fatalf("Launch: %v; CheckTrusted: %v", err, checkErr)
				}
				defer p.Close()
				if _, err := p.Info(t.Context()); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(marker); err != nil {
					t.Errorf("the plugin did not run: %v", err)
				}
				return
			}
			if err == nil {
				p.Close()
				t.Fatal("Launch succeeded")
			}
			wantPrefix := fmt.Sprintf("plugin wrapped: refusing to start %s: ", path)
			if !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Launch error:\n got %q\nwant %q...%q", err, wantPrefix, tt.want)
			}
			var ue *UntrustedError
			if !errors.As(checkErr, &ue) || !strings.Contains(ue.Reason, tt.want) {
				t.Errorf("CheckTrusted = %v, want an UntrustedError %q", checkErr, tt.want)
			}
			if _, err := os.Stat(marker); !os.IsNotExist(err) {
				t.Errorf("the refused plugin ran (marker: %v)", err)
			}
		})
	}
}

// TestExecutesTheCheckedFile replaces the plugin file between the check and
// the start of its process: the checked file runs, never the replacement.
func TestExecutesTheCheckedFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	marker := filepath.Join(dir, "ran")
	path := writeWrapper(t, dir, good, 0o755)
	bin, err := openExternal(Spec{Name: "wrapped", Path: path, SHA256: sha256Hex(t, path)})
	must(t, err)
	// An attacker (who would need root here) renames a new file over it.
	evil := filepath.Join(dir, "evil")
	must(t, os.WriteFile(evil, []byte("#!/bin/sh\n: > "+marker+"\nexit 1\n"), 0o755))
	must(t, os.Rename(evil, path))
	l := newLauncher(t)
	must(t, l.prepareSocketDir())
	p, err := l.start(t.Context(), Spec{Name: "wrapped"}, fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), bin.Fd()), []string{path})
	if err != nil {
		bin.Close()
		t.Fatal(err)
	}
	p.bin = bin
	defer p.Close()
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the replacement ran")
	}
	if _, err := os.Stat(good); err != nil {
		t.Errorf("the checked file did not run: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
