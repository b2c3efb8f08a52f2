//go:build linux

package safefs

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Fuzz targets for template tarball entries, whose names and links are not
// trusted (contract §6). `make fuzz` runs each for a bounded time; the corpus
// found so far is in testdata/fuzz.

// FuzzCleanName: an entry name is either refused or turned into a clean
// relative path that stays below the destination, whatever it holds.
func FuzzCleanName(f *testing.F) {
	for _, seed := range []string{"./", ".", "etc/passwd", "./etc//x/", "/etc/passwd", "../x", "a/../../x", "ok/../in",
		"a/./b", "\x00", "new\nline", "\xff\xfe", strings.Repeat("d/", 2100), strings.Repeat("c", 300), "...", ".../x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, err := cleanName(raw)
		if err != nil {
			return
		}
		switch {
		case name == "" || path.IsAbs(name) || path.Clean(name) != name:
			t.Fatalf("cleanName(%q) = %q, not a clean relative path", raw, name)
		case strings.ContainsRune(name, 0) || len(name) > maxNameLen:
			t.Fatalf("cleanName(%q) = %q, which the kernel refuses", raw, name)
		case name != "." && !strings.HasPrefix(filepath.Join("/dest", name), "/dest/"):
			t.Fatalf("cleanName(%q) = %q escapes the destination", raw, name)
		}
		for _, comp := range strings.Split(name, "/") {
			if comp == ".." || len(comp) > maxComponentLen {
				t.Fatalf("cleanName(%q) = %q has component %q", raw, name, comp)
			}
		}
		if dir, base := splitName(name); name != "." && (base == "" || strings.Contains(base, "/") || path.Join(dir, base) != name) {
			t.Fatalf("splitName(%q) = %q, %q", name, dir, base)
		}
	})
}

// FuzzUntar: any archive either unpacks below the destination or is refused
// with the destination emptied; nothing appears next to it and the file it
// would love to overwrite (../victim) is untouched. It runs on a tmpfs, where
// Untar's syncfs costs nothing.
func FuzzUntar(f *testing.F) {
	if os.Geteuid() != 0 {
		f.Skip("needs root (owners, device nodes, a tmpfs)")
	}
	for _, entries := range [][]tarEntry{
		{tarDir("./", 0o755), tarDir("etc/", 0o755), tarFile("etc/hostname", "ct\n"), tarSymlink("bin/sh", "busybox")},
		{tarFile("../victim", "pwned")},
		{tarFile("/victim", "pwned")},
		{tarSymlink("evil", ".."), tarFile("evil/victim", "pwned")},
		{tarSymlink("evil", "/"), tarDir("evil/sub/", 0o755)},
		{tarFile("a", "x"), tarHardlink("b", "a"), tarHardlink("c", "../victim")},
		{tarEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}}},
		{tarEntry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/initctl", Mode: 0o600}}},
		{tarFile("dup", "1"), tarDir("dup/", 0o755), tarFile("dup", "2")},
		{tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "x", Mode: 0o4755, Uid: 1000, Gid: 1000, Size: 1,
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}}, body: "x"}},
	} {
		f.Add(tarBytes(f, entries))
	}
	base := f.TempDir()
	// The corpus runs on a tmpfs. A fuzzing worker (make fuzz) does not:
	// the coordinator may kill it before its cleanup, which would leave
	// the mount behind.
	if !fuzzing() {
		if err := unix.Mount("tmpfs", base, "tmpfs", 0, "size=64m,nr_inodes=20000"); err != nil {
			f.Fatalf("mount tmpfs: %v", err)
		}
		f.Cleanup(func() { unix.Unmount(base, unix.MNT_DETACH) })
	}
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("host file\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, archive []byte) {
		if !smallArchive(archive) {
			t.Skip("declares more content than a fuzz run should write")
		}
		work, err := os.MkdirTemp(base, "w")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(work)
		file := filepath.Join(work, "t.tar")
		dest := filepath.Join(work, "dest")
		if err := os.WriteFile(file, archive, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dest, 0o700); err != nil {
			t.Fatal(err)
		}
		// Fuzzing reports no hangs by itself: a watchdog turns one into a failure.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = Untar(ctx, file, dest, nil)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Untar did not finish in 10s: %v", err)
		}
		if err != nil {
			if left := dirEntries(t, dest); len(left) != 0 {
				t.Fatalf("refused (%v) but left %q in the destination", err, left)
			}
		}
		if left := dirEntries(t, work); len(left) != 2 {
			t.Fatalf("entries next to the destination: %q", left)
		}
		if left := dirEntries(t, base); len(left) != 2 {
			t.Fatalf("entries created outside the work directory: %q", left)
		}
		if data, err := os.ReadFile(victim); err != nil || string(data) != "host file\n" {
			t.Fatalf("the file outside was changed: %q %v", data, err)
		}
	})
}

// smallArchive reports whether archive declares little enough content (and
// no sparse maps that inflate it) for one fuzz run.
func smallArchive(archive []byte) bool {
	tr := tar.NewReader(bytes.NewReader(archive))
	var total int64
	for n := 0; n < 200; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) || err != nil {
			return true
		}
		if hdr.Typeflag == tar.TypeGNUSparse {
			return false
		}
		if total += hdr.Size; total > 4<<20 {
			return false
		}
	}
	return false
}

func tarBytes(tb testing.TB, entries []tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			tb.Fatalf("tar header %q: %v", hdr.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// fuzzing tells whether this is a fuzzing run (-fuzz), not the corpus run
// of go test.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}
