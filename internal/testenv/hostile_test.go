package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The canaries must see every kind of touch, or the security suite proves
// nothing: each case does one thing to an armed canary tree.
func TestCanariesDetect(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (O_NOATIME on files of any owner, hard links)")
	}
	tests := []struct {
		name  string
		touch func(c *Canaries) error
		want  string // "" : nothing to report
	}{
		{"nothing", func(*Canaries) error { return nil }, ""},
		{"stat and readlink only", func(c *Canaries) error {
			_, err := os.Lstat(c.Path("etc/passwd"))
			return err
		}, ""},
		{"read a file", func(c *Canaries) error {
			_, err := os.ReadFile(c.Path("etc/shadow"))
			return err
		}, "etc/shadow: read"},
		{"list a directory", func(c *Canaries) error {
			_, err := os.ReadDir(c.Path("root/.ssh"))
			return err
		}, "root/.ssh: read"},
		{"rewrite a file in place", func(c *Canaries) error {
			return os.WriteFile(c.Path("etc/hostname"), []byte("canary-host\n"), 0o644)
		}, "etc/hostname: written"},
		{"replace a file by rename", func(c *Canaries) error {
			if err := os.WriteFile(c.Path("etc/tmp"), []byte("x"), 0o644); err != nil {
				return err
			}
			return os.Rename(c.Path("etc/tmp"), c.Path("etc/passwd"))
		}, "etc/passwd: replaced"},
		{"delete a file", func(c *Canaries) error { return os.Remove(c.Path("victim")) }, "victim: deleted"},
		{"create a file in a directory", func(c *Canaries) error {
			return os.WriteFile(c.Path("old/new"), nil, 0o644)
		}, "old: written"},
		{"chmod", func(c *Canaries) error { return os.Chmod(c.Path("bin/bash"), 0o700) }, "bin/bash: mode or owner changed"},
		{"chown", func(c *Canaries) error { return os.Lchown(c.Path("home/victim/notes"), 1, 1) }, "home/victim/notes: mode or owner changed"},
		{"hard link made", func(c *Canaries) error {
			return os.Link(c.Path("victim"), filepath.Join(filepath.Dir(c.Dir), "elsewhere"))
		}, "victim: changed (ctime"},
		{"linked canary unlinked elsewhere", func(c *Canaries) error {
			return os.Remove(filepath.Join(filepath.Dir(c.Dir), "area-link"))
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCanaries(filepath.Join(t.TempDir(), "host"))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Link("linked", filepath.Join(filepath.Dir(c.Dir), "area-link")); err != nil {
				t.Fatal(err)
			}
			if err := c.Arm(); err != nil {
				t.Fatal(err)
			}
			if err := c.Check(); err != nil {
				t.Fatalf("right after Arm: %v", err)
			}
			if err := tt.touch(c); err != nil {
				t.Fatal(err)
			}
			err = c.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v, want nothing", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check: %v, want %q", err, tt.want)
			}
			if err := c.Check(); (err == nil) != (tt.want == "") {
				t.Errorf("a second Check differs: %v", err)
			}
		})
	}
}

// Every trick plants without error into a busybox-like tree and leaves the
// canaries as they were.
func TestHostileTricksPlant(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (device nodes)")
	}
	for _, trick := range HostileTricks() {
		if trick.Large {
			continue // built end to end by cmd/reinstall's security suite
		}
		t.Run(trick.Name, func(t *testing.T) {
			tmp := t.TempDir()
			c, err := NewCanaries(filepath.Join(tmp, "host"))
			if err != nil {
				t.Fatal(err)
			}
			area := filepath.Join(tmp, "vz/private/101")
			for _, d := range []string{"etc", "root", "bin", "sbin", "var/log", "home", "dev"} {
				if err := os.MkdirAll(filepath.Join(area, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(area, "etc/hostname"), []byte("ct\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := c.Arm(); err != nil {
				t.Fatal(err)
			}
			if err := trick.Plant(area, c); err != nil {
				t.Fatal(err)
			}
			if err := c.Check(); err != nil {
				t.Errorf("planting touched the canaries: %v", err)
			}
			var st unix.Stat_t
			if err := unix.Lstat(area, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
				t.Errorf("the area itself is no longer a directory: %v", err)
			}
		})
	}
}
