//go:build linux

package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestResolveInRoot: symlinks resolve as inside the container, absolute
// ones and ../ escapes clamped to the root.
func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/lib/systemd", "sbin", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "usr/lib/systemd/systemd"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"lib":        "usr/lib",
		"sbin/init":  "/lib/systemd/systemd",
		"bin/escape": "../../../../usr/lib/systemd/systemd",
		"bin/host":   "/etc/hostname",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		rel, want string
		notFound  bool
	}{
		{"/sbin/init", "/usr/lib/systemd/systemd", false},
		{"/bin/escape", "/usr/lib/systemd/systemd", false},
		{"/", "/", false},
		{"/bin/host", "", true}, // the host's /etc/hostname is not the container's
		{"/sbin/missing", "", true},
	}
	for _, tt := range tests {
		got, err := ResolveInRoot(root, tt.rel)
		if tt.notFound {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("ResolveInRoot(%s) = %q, %v; want ErrNotFound", tt.rel, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveInRoot(%s) = %q, %v; want %q", tt.rel, got, err, tt.want)
		}
	}
}
