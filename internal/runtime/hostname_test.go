//go:build linux

package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteHostnameFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, private, canary string)
		wantErr string // "" = success, etc/hostname then holds the name
	}{
		{"plain file", func(t *testing.T, p, _ string) { write(t, filepath.Join(p, "etc/hostname"), "old\n") }, ""},
		{"no file yet", func(t *testing.T, p, _ string) {}, ""},
		{"absolute symlink", func(t *testing.T, p, c string) { symlink(t, c, filepath.Join(p, "etc/hostname")) }, ""},
		{"relative symlink", func(t *testing.T, p, c string) {
			rel, _ := filepath.Rel(filepath.Join(p, "etc"), c)
			symlink(t, rel, filepath.Join(p, "etc/hostname"))
		}, ""},
		{"directory", func(t *testing.T, p, _ string) { os.Mkdir(filepath.Join(p, "etc/hostname"), 0o755) }, "hostname"},
		{"etc symlink", func(t *testing.T, p, c string) {
			os.RemoveAll(filepath.Join(p, "etc"))
			symlink(t, filepath.Dir(c), filepath.Join(p, "etc"))
		}, "etc"},
		{"no etc", func(t *testing.T, p, _ string) { os.RemoveAll(filepath.Join(p, "etc")) }, "etc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			private := filepath.Join(dir, "private")
			if err := os.MkdirAll(filepath.Join(private, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			canary := filepath.Join(dir, "host", "hostname")
			os.Mkdir(filepath.Dir(canary), 0o755)
			write(t, canary, "host canary\n")
			tc.setup(t, private, canary)

			err := writeHostnameFile(private, "newname")
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if b, _ := os.ReadFile(canary); string(b) != "host canary\n" {
				t.Errorf("canary changed: %q", b)
			}
			if tc.wantErr == "" {
				fi, err := os.Lstat(filepath.Join(private, "etc/hostname"))
				if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
					t.Errorf("etc/hostname: %v, %v", fi.Mode(), err)
				}
				if b, _ := os.ReadFile(filepath.Join(private, "etc/hostname")); string(b) != "newname\n" {
					t.Errorf("etc/hostname = %q", b)
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(private, "etc")); len(entries) > 1 {
				t.Errorf("leftovers in etc: %v", entries)
			}
		})
	}
}

// A container whose etc/hostname points at a host file: the start replaces
// the link and never writes through it.
func TestStartHostileHostnameLink(t *testing.T) {
	t.Parallel()
	c := newTestCT(t, 110, "/sbin/test-init")
	canary := filepath.Join(t.TempDir(), "canary")
	write(t, canary, "host canary\n")
	hn := filepath.Join(c.spec.Private, "etc/hostname")
	os.Remove(hn)
	symlink(t, canary, hn)
	c.start()
	if b, _ := os.ReadFile(canary); string(b) != "host canary\n" {
		t.Errorf("canary changed: %q", b)
	}
	if out, _ := c.run("", "cat", "/etc/hostname"); out != "ct110\n" {
		t.Errorf("etc/hostname inside = %q", out)
	}
	c.stop()

	// A symlinked etc: the start fails before anything runs.
	etc := filepath.Join(c.spec.Private, "etc")
	os.RemoveAll(etc)
	symlink(t, filepath.Dir(canary), etc)
	if err := c.rt.Start(context.Background(), c.spec); err == nil {
		t.Errorf("started with a symlinked etc")
	}
	if b, _ := os.ReadFile(canary); string(b) != "host canary\n" {
		t.Errorf("canary changed: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(canary), "hostname")); err == nil {
		t.Errorf("hostname written through the etc symlink")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
