package vz

import (
	"os"
	"path/filepath"
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
