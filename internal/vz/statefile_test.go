//go:build linux

package vz

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenStateFileRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		flag    int
		refused bool
	}{
		{"regular read", regular, os.O_RDONLY, false},
		{"regular write", regular, os.O_WRONLY | os.O_APPEND, false},
		{"fifo read", fifo, os.O_RDONLY, true},
		{"fifo write", fifo, os.O_WRONLY, true},
		{"symlink", link, os.O_RDONLY, true},
		{"directory", dir, os.O_RDONLY, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := OpenStateFile(tt.path, tt.flag, 0)
			if tt.refused {
				if !errors.Is(err, ErrNotRegular) {
					t.Fatalf("OpenStateFile(%s) = %v, want ErrNotRegular", tt.name, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fl, _ := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
			if fl&unix.O_NONBLOCK != 0 {
				t.Error("O_NONBLOCK left set on a regular file")
			}
		})
	}
}
