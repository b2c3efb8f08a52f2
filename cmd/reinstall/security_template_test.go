package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A template's entry names are not trusted (contract §6): every trick to
// write outside the area being unpacked is refused by `reinstall` and by
// `ct create`, with nothing left on disk and no host file touched.
func TestMaliciousTemplatesRefused(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	c := h.canaries()
	up := "../../../host" // from <root>/vz/private/101.reinstall to the canaries
	cases := []struct {
		name    string
		entries []tar.Header
	}{
		{"absolute name", []tar.Header{tarFile(c.Path("pwned"))}},
		{"dot-dot", []tar.Header{tarFile(up + "/pwned")}},
		{"dot-dot in the middle", []tar.Header{tarFile("etc/../../../../host/pwned")}},
		{"write through an absolute symlink", []tar.Header{tarSymlink("etc", c.Path("etc")), tarFile("etc/passwd")}},
		{"write through a relative symlink", []tar.Header{tarSymlink("up", up), tarFile("up/victim")}},
		{"directory through a symlink", []tar.Header{tarSymlink("evil", c.Dir), tarDir("evil/sub/")}},
		{"hard link to a host file", []tar.Header{tarHardlink("x", c.Path("victim"))}},
		{"hard link climbing out", []tar.Header{tarHardlink("x", up+"/victim")}},
		{"hard link through a symlink", []tar.Header{tarSymlink("evil", c.Dir), tarHardlink("x", "evil/victim")}},
		{"device node through a symlink", []tar.Header{tarSymlink("dev", c.Dir), tarNode("dev/null", tar.TypeChar)}},
		{"fifo through a symlink", []tar.Header{tarSymlink("run", c.Path("etc")), tarNode("run/initctl", tar.TypeFifo)}},
		{"write through a symlink loop", []tar.Header{tarSymlink("loop1", "loop2"), tarSymlink("loop2", "loop1"), tarFile("loop1/x")}},
		{"write through a magic link", []tar.Header{tarSymlink("proc", "/proc/self/root"+c.Dir), tarFile("proc/pwned")}},
		{"write below a fifo", []tar.Header{tarNode("run", tar.TypeFifo), tarFile("run/x")}},
		{"crafted name through a symlink", []tar.Header{tarSymlink("e\ntc\xff", c.Path("etc")), tarFile("e\ntc\xff/shadow")}},
		{"name longer than PATH_MAX", []tar.Header{tarFile(strings.Repeat("d/", 2100) + "x")}},
		{"component longer than 255 bytes", []tar.Header{tarFile("etc/" + strings.Repeat("c", 300))}},
		{"unsupported entry type", []tar.Header{{Typeflag: 'V', Name: "volume"}}},
		{"archive root replaced by a symlink", []tar.Header{tarSymlink(".", c.Dir), tarFile("victim")}},
	}
	before := h.tree("")
	if err := c.Arm(); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &testHost{Host: h.Host, t: t}
			name := fmt.Sprintf("evil-%d", i)
			writeTemplate(t, h.Path("vz/template/cache/"+name+".tar"), tc.entries)
			if err := h.WriteConfig(101, fmt.Sprintf("OSTEMPLATE=%s\nHOSTNAME=ct101.example\nINIT=/sbin/test-init\n", name)); err != nil {
				t.Fatal(err)
			}
			r := h.cli("--skipbackup", "101")
			if err := c.Check(); err != nil {
				t.Errorf("host files touched:\n%v", err)
			}
			if r.code != 1 || !strings.HasPrefix(r.lastLine(), "reinstall: template: unpack ") {
				t.Fatalf("exit %d, want 1 with a template error\n%s", r.code, r.stderr)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()

			create := h.cli("ct", "create", "102", "--ostemplate", name)
			if create.code == 0 {
				t.Errorf("ct create from %s succeeded", name)
			}
			os.Remove(h.Path("etc/vz/conf/102.conf"))
			if err := c.Check(); err != nil {
				t.Errorf("ct create touched host files:\n%v", err)
			}
			if got := dirNames(t, h.Path("vz/private")); !cmp.Equal(got, []string{"101"}) {
				t.Errorf("left in vz/private: %q", got)
			}
		})
	}
}

// writeTemplate writes a template cache whose "./", etc/ and etc/motd entries
// come before the malicious ones, so that a refusal has something to clean up.
func writeTemplate(t *testing.T, path string, evil []tar.Header) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, hdr := range append([]tar.Header{tarDir("./"), tarDir("etc/"), tarFile("etc/motd")}, evil...) {
		hdr.ModTime = time.Unix(1700000000, 0)
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("tar header %q: %v", hdr.Name, err)
		}
		if _, err := tw.Write(bytes.Repeat([]byte("x"), int(hdr.Size))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tarFile(name string) tar.Header {
	return tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: 8}
}

func tarDir(name string) tar.Header {
	return tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}
}

func tarSymlink(name, target string) tar.Header {
	return tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}
}

func tarHardlink(name, target string) tar.Header {
	return tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}
}

func tarNode(name string, typ byte) tar.Header {
	return tar.Header{Typeflag: typ, Name: name, Mode: 0o666, Devmajor: 1, Devminor: 3}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, filepath.Base(e.Name()))
	}
	return names
}
