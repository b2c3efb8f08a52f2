package vz

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetConfigValue(t *testing.T) {
	const before = "# container 101\nVE_PRIVATE=/vz/private/$VEID   # raw form kept\nOSTEMPLATE=\"old-os\" # the template\nCUSTOM_KEY=x\n"
	tests := []struct {
		name, value, want string
		rewritten         bool
	}{
		{name: "changed", value: "new-os", rewritten: true,
			want: "# container 101\nVE_PRIVATE=/vz/private/$VEID   # raw form kept\nOSTEMPLATE=\"new-os\" # the template\nCUSTOM_KEY=x\n"},
		{name: "same value", value: "old-os", want: before},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, "")
			path := filepath.Join(h.Root, "etc/vz/conf/101.conf")
			mustWrite(t, path, before)
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
			st0, _ := os.Stat(path)
			if err := h.SetConfigValue(101, "OSTEMPLATE", tt.value); err != nil {
				t.Fatalf("SetConfigValue: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, string(data)); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600 kept", st.Mode().Perm())
			}
			if got := !os.SameFile(st0, st); got != tt.rewritten {
				t.Errorf("file replaced = %v, want %v", got, tt.rewritten)
			}
		})
	}
}

func TestSetConfigValueErrors(t *testing.T) {
	h := newTestHost(t, "")
	if err := h.SetConfigValue(102, "OSTEMPLATE", "x"); !os.IsNotExist(err) {
		t.Errorf("missing config: err = %v, want not-exist", err)
	}
	mustWrite(t, filepath.Join(h.Root, "etc/vz/conf/101.conf"), "OSTEMPLATE=a\n")
	if err := h.SetConfigValue(101, "OSTEMPLATE", "a\nVE_PRIVATE=/"); err == nil {
		t.Error("a value with a newline was written")
	}
	if got := string(must(os.ReadFile(filepath.Join(h.Root, "etc/vz/conf/101.conf")))); got != "OSTEMPLATE=a\n" {
		t.Errorf("config changed by a refused value: %q", got)
	}
}

// TestSetConfigValueRefusesSymlink: a <CTID>.conf that links to
// <VE_PRIVATE>/ve.conf (Virtuozzo 7) is neither rewritten through the link
// nor replaced by a plain file, even for the value it already holds.
func TestSetConfigValueRefusesSymlink(t *testing.T) {
	// The value it already has is no change: nil, so a recovery is not
	// stuck on a link someone set the value through by hand.
	for _, value := range []string{"new-os", "old-os"} {
		t.Run(value, func(t *testing.T) {
			h := newTestHost(t, "")
			target := filepath.Join(h.Root, "vz/private/101/ve.conf")
			mustWrite(t, target, "OSTEMPLATE=old-os\n")
			link := filepath.Join(h.Root, "etc/vz/conf/101.conf")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			err := h.SetConfigValue(101, "OSTEMPLATE", value)
			switch {
			case value == "old-os" && err != nil:
				t.Errorf("SetConfigValue of the value it has: %v, want nil", err)
			case value != "old-os" && (!errors.Is(err, ErrConfigSymlink) || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), target)):
				t.Errorf("SetConfigValue: %v, want %v naming the link and its target", err, ErrConfigSymlink)
			}
			if err := h.CheckConfigWritable(101); !errors.Is(err, ErrConfigSymlink) {
				t.Errorf("CheckConfigWritable: %v, want %v", err, ErrConfigSymlink)
			}
			if got, err := os.Readlink(link); err != nil || got != target {
				t.Errorf("the link is now %q, %v; want it to point to %s", got, err, target)
			}
			if got := string(must(os.ReadFile(target))); got != "OSTEMPLATE=old-os\n" {
				t.Errorf("ve.conf = %q, want it unchanged", got)
			}
			if names := must(os.ReadDir(filepath.Dir(link))); len(names) != 1 {
				t.Errorf("the config directory holds %d entries, want only the link", len(names))
			}
		})
	}
	h := newTestHost(t, "")
	mustWrite(t, filepath.Join(h.Root, "etc/vz/conf/101.conf"), "OSTEMPLATE=a\n")
	if err := h.CheckConfigWritable(101); err != nil {
		t.Errorf("CheckConfigWritable of a regular file: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
