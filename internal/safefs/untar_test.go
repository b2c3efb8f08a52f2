//go:build linux

package safefs

import (
	"archive/tar"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// buildTemplateTree lays out a small private area with every kind of entry Untar handles.
func buildTemplateTree(t *testing.T, src string) {
	t.Helper()
	for _, d := range []string{"etc", "bin", "usr/bin", "usr/share", "dev", "run", "var/lib", "var/mail", "tmp", "home/user"} {
		mustMkdir(t, filepath.Join(src, d))
	}
	p := func(rel string) string { return filepath.Join(src, rel) }
	mustWrite(t, p("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
	must(t, os.Link(p("etc/passwd"), p("etc/passwd-hard")))
	mustWrite(t, p("etc/empty"), "")
	mustWrite(t, p("etc/with space"), "spaces\n")
	mustWrite(t, p("usr/share/"+strings.Repeat("long-name-", 15)), "a name longer than 100 bytes\n")
	mustWrite(t, p("bin/busybox"), "\x7fELF not really\n")
	must(t, os.Chmod(p("bin/busybox"), 0o755))
	mustSymlink(t, "/bin/busybox", p("bin/sh"))
	mustSymlink(t, "busybox", p("bin/ls"))
	must(t, os.Link(p("bin/sh"), p("bin/sh-hard"))) // a hard link to a symlink
	mustWrite(t, p("usr/bin/su"), "setuid\n")
	must(t, os.Chmod(p("usr/bin/su"), 0o4755))
	must(t, os.Chmod(p("tmp"), 0o1777))
	must(t, os.Chown(p("var/mail"), 0, 8))
	must(t, os.Chmod(p("var/mail"), 0o2775))
	must(t, unix.Mknod(p("dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, unix.Mknod(p("dev/loop7"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 7))))
	must(t, unix.Mkfifo(p("run/initctl"), 0o600))
	mustWrite(t, p("home/user/.profile"), "PS1='$ '\n")
	must(t, os.Chmod(p("home/user/.profile"), 0o600))
	must(t, os.Chmod(p("home/user"), 0o750))
	for _, rel := range []string{"home/user", "home/user/.profile"} {
		must(t, os.Chown(p(rel), 1234, 5678))
	}
	must(t, os.Lchown(p("bin/ls"), 1234, 5678))
	// Holes: 10 MiB hole then a tail; a hole at the start; a short zero run that stays data.
	writeAt(t, p("var/lib/sparse"), 10<<20, "tail")
	writeAt(t, p("var/lib/hole-first"), 1<<20, "data after a hole")
	short := make([]byte, minHole)
	copy(short, "head")
	copy(short[minHole-holeBlock:], "after 56 KiB of zeros, too short for a hole")
	mustWrite(t, p("var/lib/short-zero-run"), string(short))
	random := make([]byte, 3<<20+123)
	for i := range random {
		random[i] = byte(rand.IntN(256))
	}
	mustWrite(t, p("var/lib/random"), string(random))
	// xattrs, also on a directory, a symlink and a device node (trusted.* works there).
	must(t, unix.Setxattr(p("etc/passwd"), "user.test", []byte("hello"), 0))
	must(t, unix.Setxattr(p("etc/passwd"), "user.empty", nil, 0))
	must(t, unix.Setxattr(p("var/lib"), "user.dir", []byte("1"), 0))
	must(t, unix.Lsetxattr(p("bin/ls"), "trusted.link", []byte("v"), 0))
	must(t, unix.Lsetxattr(p("dev/null"), "trusted.node", []byte("w"), 0))
	must(t, os.Chmod(src, 0o700))
	setDistinctMtimes(t, src)
}

func writeAt(t *testing.T, p string, off int64, data string) {
	t.Helper()
	f, err := os.Create(p)
	must(t, err)
	defer f.Close()
	_, err = f.WriteAt([]byte(data), off)
	must(t, err)
}

// setDistinctMtimes gives every entry its own mtime with nanoseconds, deepest first.
func setDistinctMtimes(t *testing.T, root string) {
	t.Helper()
	var all []string
	must(t, filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		all = append(all, p)
		return err
	}))
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for i, p := range all {
		ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), {Sec: 1600000000 + int64(i)*3600, Nsec: 123456789}}
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
	}
}

func TestUntarRealTemplates(t *testing.T) {
	requireRoot(t)
	src := filepath.Join(t.TempDir(), "src")
	mustMkdir(t, src)
	buildTemplateTree(t, src)
	xattrArgs := []string{"--xattrs", "--xattrs-include=*"}
	tests := []struct {
		name, suffix string
		args         []string
		pax          bool // posix format: xattrs and nanosecond mtimes are kept
	}{
		{"tar", ".tar", xattrArgs, true},
		{"gzip", ".tar.gz", append([]string{"-z"}, xattrArgs...), true},
		{"zstd", ".tar.zst", append([]string{"--zstd"}, xattrArgs...), true},
		{"xz", ".tar.xz", append([]string{"-J"}, xattrArgs...), true},
		{"bzip2", ".tar.bz2", append([]string{"-j"}, xattrArgs...), true},
		{"old GNU sparse", ".tar", []string{"--format=gnu"}, false},
	}
	want := snapshot(t, src, true, true)
	wantBytes := int64(0)
	seen := map[uint64]bool{}
	must(t, filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().IsRegular() && !seen[st.Ino] {
			seen[st.Ino] = true
			wantBytes += fi.Size()
		}
		return err
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			archive := filepath.Join(tmp, "template"+tt.suffix)
			packGNU(t, src, archive, tt.args...)
			dest := mustMkdir(t, filepath.Join(tmp, "dest"))
			var reports []Stats
			stats, err := Untar(context.Background(), archive, dest, func(s Stats) { reports = append(reports, s) })
			if err != nil {
				t.Fatalf("Untar: %v", err)
			}
			wantSnap := want
			if !tt.pax {
				wantSnap = snapshot(t, src, false, false)
			}
			if diff := cmp.Diff(wantSnap, snapshot(t, dest, tt.pax, tt.pax)); diff != "" {
				t.Errorf("extracted tree differs from the source (-src +dest):\n%s", diff)
			}
			if diff := cmp.Diff(Stats{Files: int64(len(want) - 1), Bytes: wantBytes}, stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if len(reports) == 0 || reports[len(reports)-1] != stats {
				t.Errorf("progress reports %v, want the final %v last", reports, stats)
			}
			assertSameInode(t, filepath.Join(dest, "etc/passwd"), filepath.Join(dest, "etc/passwd-hard"))
			assertSameInode(t, filepath.Join(dest, "bin/sh"), filepath.Join(dest, "bin/sh-hard"))
			assertSparse(t, filepath.Join(dest, "var/lib/sparse"), true)
			assertSparse(t, filepath.Join(dest, "var/lib/hole-first"), true)
			assertSparse(t, filepath.Join(dest, "var/lib/short-zero-run"), false)
		})
	}
}

func assertSameInode(t *testing.T, a, b string) {
	t.Helper()
	var sa, sb unix.Stat_t
	must(t, unix.Lstat(a, &sa))
	must(t, unix.Lstat(b, &sb))
	if sa.Ino != sb.Ino || sa.Nlink != 2 {
		t.Errorf("%s (inode %d, %d links) and %s (inode %d) are not one hard-linked inode", a, sa.Ino, sa.Nlink, b, sb.Ino)
	}
}

func assertSparse(t *testing.T, p string, sparse bool) {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Stat(p, &st))
	if allocated := st.Blocks * 512; (allocated < st.Size/2) != sparse {
		t.Errorf("%s: %d bytes allocated for size %d, want sparse=%v", p, allocated, st.Size, sparse)
	}
}

func TestUntarRootEntry(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		entries  []tarEntry
		wantMode uint32
		wantUID  uint32
	}{
		{"root entry mode and owner", []tarEntry{
			{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o751, Uid: 1234, Gid: 5678}},
			tarFile("./a", "x"),
		}, 0o751, 1234},
		{"no root entry", []tarEntry{tarFile("a", "x")}, 0o755, 0},
		{"root entry spelled .", []tarEntry{tarDir(".", 0o711), tarFile("a", "x")}, 0o711, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			archive := writeTar(t, filepath.Join(tmp, "t.tar"), tt.entries...)
			dest := mustMkdir(t, filepath.Join(tmp, "dest"))
			if _, err := Untar(context.Background(), archive, dest, nil); err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			must(t, unix.Stat(dest, &st))
			if st.Mode&0o7777 != tt.wantMode || st.Uid != tt.wantUID {
				t.Errorf("dest mode %04o uid %d, want %04o uid %d", st.Mode&0o7777, st.Uid, tt.wantMode, tt.wantUID)
			}
		})
	}
}

func TestUntarNamesAndDuplicates(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	archive := writeTar(t, filepath.Join(tmp, "t.tar"),
		tarFile("./a//b/./c", "implicit parents"),
		tarFile("dup", "first"),
		tarFile("dup", "second"),
		tarSymlink("link", "dup"),
		tarFile("link", "a file replaces the symlink"),
		tarDir("d/", 0o755),
		tarDir("d", 0o700),
	)
	dest := mustMkdir(t, filepath.Join(tmp, "dest"))
	if _, err := Untar(context.Background(), archive, dest, nil); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{"a/b/c": "implicit parents", "dup": "second", "link": "a file replaces the symlink"} {
		got, err := os.ReadFile(filepath.Join(dest, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", rel, got, err, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dest, "d")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("d: %v %v, want a 0700 directory", fi.Mode(), err)
	}
}

func TestUntarMalicious(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	canary := mustMkdir(t, filepath.Join(tmp, "canary"))
	mustWrite(t, filepath.Join(canary, "victim"), "host file\n")
	canarySnap := snapshot(t, canary, true, true)
	longName := strings.Repeat("d/", 2100) + "x"
	longComponent := strings.Repeat("c", 300)
	tests := []struct {
		name    string
		bad     tarEntry
		prelude []tarEntry
	}{
		{"absolute name", tarFile(filepath.Join(canary, "pwned"), "x"), nil},
		{"dot-dot", tarFile("../canary/pwned", "x"), nil},
		{"dot-dot in the middle", tarFile("a/../../canary/pwned", "x"), nil},
		{"harmless dot-dot", tarFile("ok/../inside", "x"), nil},
		{"write through absolute symlink", tarFile("evil/pwned", "x"), []tarEntry{tarSymlink("evil", canary)}},
		{"write through relative symlink", tarFile("up/pwned", "x"), []tarEntry{tarSymlink("up", "../canary")}},
		{"write through symlink to inside", tarFile("self/x", "x"), []tarEntry{tarSymlink("self", ".")}},
		{"directory through symlink", tarDir("evil/sub/", 0o755), []tarEntry{tarSymlink("evil", canary)}},
		{"hard link through symlink", tarHardlink("x", "evil/victim"), []tarEntry{tarSymlink("evil", canary)}},
		{"hard link escaping", tarHardlink("x", "../../canary/victim"), nil},
		{"hard link to absolute path", tarHardlink("x", filepath.Join(canary, "victim")), nil},
		{"hard link to root", tarHardlink("x", "./"), nil},
		{"name too long", tarFile(longName, "x"), nil},
		{"component too long", tarFile("ok/"+longComponent, "x"), nil},
		{"unsupported type", tarEntry{hdr: tar.Header{Typeflag: 'V', Name: "volume"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := mustMkdir(t, filepath.Join(t.TempDir(), "work"))
			entries := append([]tarEntry{tarDir("ok/", 0o755), tarFile("ok/file", "fine")}, tt.prelude...)
			entries = append(entries, tt.bad, tarFile("after", "never reached"))
			archive := writeTar(t, filepath.Join(work, "evil.tar"), entries...)
			dest := mustMkdir(t, filepath.Join(work, "dest"))
			_, err := Untar(context.Background(), archive, dest, nil)
			if err == nil {
				t.Fatal("Untar succeeded, want a refusal")
			}
			t.Logf("refused: %v", err)
			if want := fmt.Sprintf("entry %q", shortName(tt.bad.hdr.Name)); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the entry (%q)", err, want)
			}
			if left := names(t, dest); len(left) != 0 {
				t.Errorf("dest not emptied after the error: %q", left)
			}
			if diff := cmp.Diff(canarySnap, snapshot(t, canary, true, true)); diff != "" {
				t.Errorf("canary changed (-before +after):\n%s", diff)
			}
			if left := names(t, work); !cmp.Equal(left, []string{"dest", "evil.tar"}) {
				t.Errorf("entries created next to dest: %q", left)
			}
		})
	}
}

func TestUntarFailuresLeaveDestEmpty(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	src := mustMkdir(t, filepath.Join(tmp, "src"))
	mustWrite(t, filepath.Join(src, "a/b"), strings.Repeat("content ", 200000))
	good := filepath.Join(tmp, "good.tar.gz")
	packGNU(t, src, good, "-z")
	data, err := os.ReadFile(good)
	must(t, err)
	truncated := filepath.Join(tmp, "truncated.tar.gz")
	must(t, os.WriteFile(truncated, data[:len(data)*2/3], 0o644))
	corrupt := filepath.Join(tmp, "corrupt.tar.gz")
	bad := append([]byte(nil), data...)
	bad[len(bad)-6] ^= 0xff // the gzip CRC32 trailer
	must(t, os.WriteFile(corrupt, bad, 0o644))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		archive string
		wantErr string
	}{
		{"truncated archive", context.Background(), truncated, "unexpected EOF"},
		{"checksum mismatch", context.Background(), corrupt, "checksum"},
		{"cancelled", cancelled, good, "context canceled"},
		{"unknown suffix", context.Background(), filepath.Join(tmp, "x.zip"), "unknown suffix"},
		{"missing archive", context.Background(), filepath.Join(tmp, "none.tar"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := mustMkdir(t, filepath.Join(t.TempDir(), "dest"))
			_, err := Untar(tt.ctx, tt.archive, dest, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Untar error %v, want one containing %q", err, tt.wantErr)
			}
			if left := names(t, dest); len(left) != 0 {
				t.Errorf("dest not emptied: %q", left)
			}
		})
	}
}

func TestUntarRefusesNonEmptyOrSymlinkedDest(t *testing.T) {
	tmp := t.TempDir()
	archive := writeTar(t, filepath.Join(tmp, "t.tar"), tarFile("a", "x"))
	full := mustMkdir(t, filepath.Join(tmp, "full"))
	mustWrite(t, filepath.Join(full, "keep"), "mine")
	mustSymlink(t, mustMkdir(t, filepath.Join(tmp, "real")), filepath.Join(tmp, "link"))
	for _, dest := range []string{full, filepath.Join(tmp, "link")} {
		if _, err := Untar(context.Background(), archive, dest, nil); err == nil {
			t.Errorf("Untar into %s succeeded, want a refusal", dest)
		}
	}
	if got := names(t, full); !cmp.Equal(got, []string{"keep"}) {
		t.Errorf("non-empty dest touched: %q", got)
	}
	if got := names(t, filepath.Join(tmp, "real")); len(got) != 0 {
		t.Errorf("symlinked dest followed: %q", got)
	}
}

func TestDecompressSuffixes(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"a.tar", ".tar", true},
		{"a.tar.gz", ".tar.gz", true},
		{"a.tgz", ".tar.gz", true},
		{"a.tar.zst", ".tar.zst", true},
		{"a.tar.xz", ".tar.xz", true},
		{"a.tar.bz2", ".tar.bz2", true},
		{"a.tar.lz4", "", false},
		{"a.zip", "", false},
	}
	for _, tt := range tests {
		got, ok := compressionOf(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("compressionOf(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	if _, err := Decompress(filepath.Join(t.TempDir(), "a.rar")); err == nil {
		t.Errorf("Decompress of an unknown suffix: %v, want an error", err)
	}
}
