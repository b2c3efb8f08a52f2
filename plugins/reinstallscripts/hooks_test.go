package reinstallscripts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reinstall-dev/reinstall/internal/safefs"
)

func TestSplitNames(t *testing.T) {
	for in, want := range map[string][]string{
		"":                  nil,
		" , \t":             nil,
		"a.sh":              {"a.sh"},
		"a.sh,b.sh c.sh\td": {"a.sh", "b.sh", "c.sh", "d"},
		"b.sh,,a.sh,b.sh":   {"b.sh", "a.sh"},
	} {
		if d := cmp.Diff(want, SplitNames(in)); d != "" {
			t.Errorf("SplitNames(%q) (-want +got):\n%s", in, d)
		}
	}
}

func TestSelect(t *testing.T) {
	host, container := []string{"a.sh", "b.sh"}, []string{"b.sh", "c.sh"}
	tests := []struct {
		names   []string
		want    []Hook
		missing string
	}{
		{nil, []Hook{{"a.sh", OriginHost}, {"b.sh", OriginHost}}, ""},
		{[]string{"a.sh"}, []Hook{{"a.sh", OriginHost}}, ""},
		{[]string{"a.sh", "c.sh", "b.sh"}, []Hook{{"b.sh", OriginContainer}, {"c.sh", OriginContainer}, {"a.sh", OriginHost}}, ""},
		{[]string{"a.sh", "nope.sh"}, nil, "nope.sh"},
	}
	for _, tt := range tests {
		got, err := Select(host, container, tt.names)
		var nf *NotFoundError
		if tt.missing != "" {
			if !errors.As(err, &nf) || nf.Name != tt.missing {
				t.Errorf("Select(%v): %v, want %s not found", tt.names, err, tt.missing)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Select(%v): %v", tt.names, err)
		}
		if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("Select(%v) (-want +got):\n%s", tt.names, d)
		}
	}
}

// TestContainerHooksNeverFollowSymlinks: only regular *.sh files with the
// owner's execute bit are hooks; a symlinked hook is not one, and a
// symlinked directory on the way is refused.
func TestContainerHooksNeverFollowSymlinks(t *testing.T) {
	area := t.TempDir()
	dir := filepath.Join(area, Dir)
	host := t.TempDir()
	write(t, filepath.Join(host, "evil.sh"), 0o755)
	write(t, filepath.Join(dir, "b.sh"), 0o755)
	write(t, filepath.Join(dir, "a.sh"), 0o700)
	write(t, filepath.Join(dir, "group-only.sh"), 0o070)
	write(t, filepath.Join(dir, "notes.txt"), 0o755)
	if err := os.Mkdir(filepath.Join(dir, "dir.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(host, "evil.sh"), filepath.Join(dir, "link.sh")); err != nil {
		t.Fatal(err)
	}
	got, err := ContainerHooks(area)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a.sh", "b.sh"}, got); d != "" {
		t.Errorf("hooks (-want +got):\n%s", d)
	}
	if _, err := Read(Hook{Name: "link.sh", Origin: OriginContainer}, "/", area); !errors.Is(err, safefs.ErrUnsafePath) {
		t.Errorf("reading a symlinked hook: %v, want %v", err, safefs.ErrUnsafePath)
	}

	linked := t.TempDir()
	if err := os.MkdirAll(filepath.Join(linked, "etc/vz"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(linked, Dir)); err != nil {
		t.Fatal(err)
	}
	if got, err := ContainerHooks(linked); !errors.Is(err, safefs.ErrUnsafePath) {
		t.Errorf("a symlinked reinstall.d: %v, %v; want %v", got, err, safefs.ErrUnsafePath)
	}
	if got, err := ContainerHooks(t.TempDir()); err != nil || got != nil {
		t.Errorf("no reinstall.d: %v, %v; want none", got, err)
	}
}

func TestDescriptionLines(t *testing.T) {
	tests := []struct {
		desc string
		ok   bool
		want []string
	}{
		{"", false, []string{"a.sh:"}},
		{"", true, []string{"a.sh:"}},
		{"One.\n", true, []string{"a.sh:One."}},
		{"One.\nTwo.", true, []string{"a.sh:One.", "a.sh:Two."}},
		{"esc\x1b[2J\n", true, []string{"a.sh:esc?[2J"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, DescriptionLines("a.sh", []byte(tt.desc), tt.ok)); d != "" {
			t.Errorf("DescriptionLines(%q) (-want +got):\n%s", tt.desc, d)
		}
	}
}

func write(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("echo hi\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
