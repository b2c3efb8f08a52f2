//go:build linux

package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// hostileRoot builds a container root whose symlinks point at a canary host directory.
func hostileRoot(t *testing.T) (root, canary string) {
	t.Helper()
	tmp := t.TempDir()
	canary = mustMkdir(t, filepath.Join(tmp, "canary"))
	mustWrite(t, filepath.Join(canary, "passwd"), "host secret\n")
	root = mustMkdir(t, filepath.Join(tmp, "root"))
	mustWrite(t, filepath.Join(root, "etc/hostname"), "ct\n")
	must(t, os.Chmod(filepath.Join(root, "etc/hostname"), 0o640))
	mustSymlink(t, filepath.Join(canary, "passwd"), filepath.Join(root, "etc/passwd"))
	mustSymlink(t, canary, filepath.Join(root, "hostetc"))
	mustSymlink(t, "../canary", filepath.Join(root, "up"))
	mustSymlink(t, "hostname", filepath.Join(root, "etc/relative"))
	must(t, unix.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644))
	return root, canary
}

func TestReadFileBeneath(t *testing.T) {
	root, _ := hostileRoot(t)
	tests := []struct {
		rel      string
		want     string
		wantMode os.FileMode
		unsafe   bool // refused with ErrUnsafePath
		fails    bool
	}{
		{rel: "etc/hostname", want: "ct\n", wantMode: 0o640},
		{rel: "/etc/hostname", want: "ct\n", wantMode: 0o640},
		{rel: "etc/passwd", unsafe: true},       // symlink to a host file
		{rel: "hostetc/passwd", unsafe: true},   // symlinked directory (etc -> /etc)
		{rel: "up/passwd", unsafe: true},        // relative symlink leaving the root
		{rel: "etc/relative", unsafe: true},     // even a symlink staying inside
		{rel: "../canary/passwd", unsafe: true}, // escape by name
		{rel: "etc/../../canary/passwd", unsafe: true},
		{rel: "etc/fifo", fails: true}, // must neither block nor read a fifo
		{rel: "etc", fails: true},
		{rel: "missing", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			done := make(chan struct{})
			var (
				data []byte
				mode os.FileMode
				err  error
			)
			go func() { data, mode, err = ReadFileBeneath(root, tt.rel); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFileBeneath blocked")
			}
			switch {
			case tt.unsafe || tt.fails:
				if err == nil {
					t.Fatalf("read %q = %q, want an error", tt.rel, data)
				}
				if tt.unsafe && !errors.Is(err, ErrUnsafePath) {
					t.Errorf("error %v is not ErrUnsafePath", err)
				}
			case err != nil:
				t.Fatal(err)
			case string(data) != tt.want || mode != tt.wantMode:
				t.Errorf("read %q = %q %v, want %q %v", tt.rel, data, mode, tt.want, tt.wantMode)
			}
		})
	}
}

func TestWriteFileBeneath(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name        string
		rel         string
		makeParents bool
		wantErr     bool
	}{
		{"plain file", "etc/hostname", false, false},
		{"symlinked target is replaced, not followed", "etc/passwd", false, false},
		{"new file", "etc/new", false, false},
		{"parents created", "a/b/c/file", true, false},
		{"missing parents without makeParents", "x/y/file", false, true},
		{"symlinked parent", "hostetc/passwd", false, true},
		{"symlinked parent with makeParents", "hostetc/sub/passwd", true, true},
		{"relative symlinked parent", "up/passwd", true, true},
		{"escape by name", "../canary/passwd", true, true},
		{"directory target", "etc", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, canary := hostileRoot(t)
			before := snapshot(t, canary, false, true)
			err := WriteFileBeneath(root, tt.rel, []byte("new\n"), 0o600|os.ModeSetgid, tt.makeParents)
			if diff := cmp.Diff(before, snapshot(t, canary, false, true)); diff != "" {
				t.Errorf("canary changed:\n%s", diff)
			}
			if tt.wantErr {
				if err == nil {
					t.Fatal("write succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(root, tt.rel)
			fi, err := os.Lstat(p)
			must(t, err)
			data, _ := os.ReadFile(p)
			if !fi.Mode().IsRegular() || fi.Mode()&(os.ModePerm|os.ModeSetgid) != 0o600|os.ModeSetgid || string(data) != "new\n" {
				t.Errorf("%s: %v %q, want a 0600 setgid regular file with the data", p, fi.Mode(), data)
			}
			for _, n := range names(t, filepath.Dir(p)) {
				if len(n) > 14 && n[:14] == ".reinstall-tmp" {
					t.Errorf("temporary file %s left behind", n)
				}
			}
		})
	}
}

func TestWriteFileBeneathKeepsOwner(t *testing.T) {
	requireRoot(t)
	root, _ := hostileRoot(t)
	p := filepath.Join(root, "etc/hostname")
	must(t, os.Chown(p, 1234, 42))
	must(t, WriteFileBeneath(root, "etc/hostname", []byte("x\n"), 0o644, false))
	var st unix.Stat_t
	must(t, unix.Stat(p, &st))
	if st.Uid != 1234 || st.Gid != 42 {
		t.Errorf("owner %d:%d, want 1234:42 kept", st.Uid, st.Gid)
	}
}

func TestProbeInRoot(t *testing.T) {
	root, canary := hostileRoot(t)
	mustWrite(t, filepath.Join(root, "bin/busybox"), "elf")
	must(t, os.Chmod(filepath.Join(root, "bin/busybox"), 0o755))
	mustSymlink(t, "/bin/busybox", filepath.Join(root, "bin/sh"))
	mustSymlink(t, "/etc/passwd", filepath.Join(root, "bin/hostpasswd"))      // the host has one, root does not
	mustSymlink(t, canary+"/passwd", filepath.Join(root, "bin/canarypasswd")) // absolute host path
	mustSymlink(t, "../../../../../bin", filepath.Join(root, "bin/dotdot"))   // clamped at root
	mustSymlink(t, "loop2", filepath.Join(root, "loop1"))
	mustSymlink(t, "loop1", filepath.Join(root, "loop2"))
	type probe struct{ Exists, IsDir, Executable bool }
	tests := []struct {
		rel  string
		want probe
	}{
		{"/bin/sh", probe{true, false, true}},
		{"bin/busybox", probe{true, false, true}},
		{"/etc/hostname", probe{true, false, false}},
		{"/etc", probe{true, true, false}},
		{"/bin/hostpasswd", probe{}},
		{"/bin/canarypasswd", probe{}},
		{"/etc/passwd", probe{}}, // symlink to the canary path, resolved inside root
		{"/bin/dotdot/busybox", probe{true, false, true}},
		{"/../../bin/busybox", probe{true, false, true}},
		{"/loop1", probe{}},
		{"/missing/x", probe{}},
		{"/etc/hostname/x", probe{}},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			exists, isDir, exec, err := ProbeInRoot(root, tt.rel)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, probe{exists, isDir, exec}); diff != "" {
				t.Errorf("ProbeInRoot(%q) (-want +got):\n%s", tt.rel, diff)
			}
		})
	}
}

func TestOpenBeneath(t *testing.T) {
	root, canary := hostileRoot(t)
	f, err := OpenBeneath(root, "/etc/hostname", os.O_RDONLY, 0)
	must(t, err)
	f.Close()
	if _, err := OpenBeneath(root, "hostetc/passwd", os.O_RDONLY, 0); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("through a symlinked dir: %v, want ErrUnsafePath", err)
	}
	if _, err := OpenBeneath(root, "etc/passwd", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("create over a symlink: %v, want ErrUnsafePath", err)
	}
	link := filepath.Join(t.TempDir(), "rootlink")
	mustSymlink(t, root, link)
	if _, err := OpenBeneath(link, "etc/hostname", os.O_RDONLY, 0); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("symlinked root: %v, want ErrUnsafePath", err)
	}
	if data, _ := os.ReadFile(filepath.Join(canary, "passwd")); string(data) != "host secret\n" {
		t.Errorf("canary changed: %q", data)
	}
}
