package hooks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	got, err := Container(area)
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
	if got, err := Container(linked); !errors.Is(err, safefs.ErrUnsafePath) {
		t.Errorf("a symlinked reinstall.d: %v, %v; want %v", got, err, safefs.ErrUnsafePath)
	}
	if got, err := Container(t.TempDir()); err != nil || got != nil {
		t.Errorf("no reinstall.d: %v, %v; want none", got, err)
	}
}

func TestDescriptionLines(t *testing.T) {
	many := strings.Repeat("line\n", MaxDescLines+5)
	manyWant := make([]string, 0, MaxDescLines+1)
	for range MaxDescLines {
		manyWant = append(manyWant, "a.sh:line")
	}
	manyWant = append(manyWant, "a.sh:… (truncated)")
	tests := []struct {
		desc          string
		truncated, ok bool
		want          []string
	}{
		{"", false, false, []string{"a.sh:"}},
		{"", false, true, []string{"a.sh:"}},
		{"One.\n", false, true, []string{"a.sh:One."}},
		{"One.\nTwo.", false, true, []string{"a.sh:One.", "a.sh:Two."}},
		{"esc\x1b[2J\n", false, true, []string{`a.sh:esc\x1b[2J`}},
		{"One.\nTw", true, true, []string{"a.sh:One.", "a.sh:Tw", "a.sh:… (truncated)"}},
		{many, false, true, manyWant},
		{strings.Repeat("line\n", MaxDescLines), false, true, manyWant[:MaxDescLines]},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, DescriptionLines("a.sh", []byte(tt.desc), tt.truncated, tt.ok)); d != "" {
			t.Errorf("DescriptionLines(%.40q, %v) (-want +got):\n%s", tt.desc, tt.truncated, d)
		}
	}
}

// TestReadBounds: a hook of MaxHookSize bytes is read, one byte more is a
// *TooLargeError naming the hook and the limit, for the host's hooks and
// the container's; a description is cut at MaxDescSize.
func TestReadBounds(t *testing.T) {
	for _, origin := range []string{OriginHost, OriginContainer} {
		t.Run(origin, func(t *testing.T) {
			root, area := t.TempDir(), t.TempDir()
			dir := filepath.Join(root, Dir)
			if origin == OriginContainer {
				dir = filepath.Join(area, Dir)
			}
			writeSized(t, filepath.Join(dir, "fits.sh"), MaxHookSize)
			writeSized(t, filepath.Join(dir, "big.sh"), MaxHookSize+1)
			writeSized(t, filepath.Join(dir, "big.desc"), 3*MaxDescSize)

			data, err := Read(Hook{Name: "fits.sh", Origin: origin}, root, area)
			if err != nil || len(data) != MaxHookSize {
				t.Errorf("a hook of %d bytes: %d bytes, %v", MaxHookSize, len(data), err)
			}
			_, err = Read(Hook{Name: "big.sh", Origin: origin}, root, area)
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Size != MaxHookSize+1 {
				t.Fatalf("a hook of %d bytes: %v, want a *TooLargeError", MaxHookSize+1, err)
			}
			want := "the " + origin + " hook big.sh is 1048577 bytes, more than the 1048576 (1 MiB) a hook may have"
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line starting %q", err, want)
			}

			desc, truncated, ok := Description(Hook{Name: "big.sh", Origin: origin}, root, area)
			if len(desc) != MaxDescSize || !truncated || !ok {
				t.Errorf("a description of %d bytes: %d bytes, truncated %v, ok %v", 3*MaxDescSize, len(desc), truncated, ok)
			}
			if _, _, ok := Description(Hook{Name: "fits.sh", Origin: origin}, root, area); ok {
				t.Errorf("no fits.desc, but ok")
			}
		})
	}
}

// writeSized writes an executable file of size bytes of shell comments.
func writeSized(t *testing.T, p string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "# padding padding padding\n"
	data := []byte(strings.Repeat(line, size/len(line)+1))[:size]
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
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
