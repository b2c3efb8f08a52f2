package vz

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for what the host reads from files an operator (or a
// careless tool) may have written: configs, CTIDs and names. `make fuzz` runs
// each for a bounded time; the corpus found so far is in testdata/fuzz.

// FuzzParseConfig: any input either parses and is written back byte for
// byte, or is a *SyntaxError naming one of its lines; a Set of any value
// CheckValue accepts reads back unchanged and leaves the other keys alone.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "# comment\n", "A=1", "A=1\n", "A=\"two words\" # c\n", "A='x\"y'\n", "A=1\nA=2\n",
		"VE_PRIVATE=/vz/private/$VEID\nVE_ROOT=\"/vz/root/${VEID}\"\n", "  IP_ADDRESS=\"10.0.0.1 10.0.0.2\"\r\n",
		"A=\"open\n", "=x\n", "1A=x\n", "A=\"x\" y\n", "A=x#notacomment #comment\n", "A=\x00\xff\n",
	} {
		f.Add([]byte(seed), "KEY", "value")
	}
	if data, err := os.ReadFile("testdata/rewrite.conf"); err == nil {
		f.Add(data, "HOSTNAME", "new.example")
	}
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		c, err := ParseConfig(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("error %v is not a *SyntaxError naming a line of the input", err)
			}
			return
		}
		if got := c.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("round trip changed the file:\n in: %q\nout: %q", data, got)
		}
		keys := c.Keys()
		for k, v := range keys {
			if got, ok := c.Get(k); !ok || got != v {
				t.Fatalf("Get(%q) = %q, %v; Keys says %q", k, got, ok, v)
			}
		}
		if !validKey(key) || CheckValue(value) != nil {
			return
		}
		c.Set(key, value)
		again, err := ParseConfig(c.Bytes())
		if err != nil {
			t.Fatalf("Set(%q, %q) wrote a file that does not parse: %v\n%q", key, value, err, c.Bytes())
		}
		if got, _ := again.Get(key); got != value {
			t.Fatalf("Set(%q, %q) reads back as %q\n%q", key, value, got, c.Bytes())
		}
		for k, v := range keys {
			if got, _ := again.Get(k); k != key && got != v {
				t.Fatalf("Set(%q) changed %q from %q to %q", key, k, v, got)
			}
		}
	})
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._+-]*$`)

// FuzzParseCTID: an accepted CTID is 1..MaxCTID and its own canonical text;
// an accepted name matches the contract's grammar and is no CLI word; a CLI
// argument resolves to exactly one of the two, or is refused.
func FuzzParseCTID(f *testing.F) {
	for _, seed := range []string{"101", "1", "0", "0101", "2147483644", "2147483645", "99999999999999999999", "-1", "+1",
		" 1", "1 ", "web", "Web.site+1_x-y", "ct", "version", "..", "/", "a/b", "a\nb", "-web", "", "\x00", "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctid, errID := ParseCTID(s)
		if errID == nil {
			if ctid < 1 || ctid > MaxCTID || strconv.Itoa(ctid) != s {
				t.Fatalf("ParseCTID(%q) = %d", s, ctid)
			}
		} else if !errors.Is(errID, ErrInvalidCTID) {
			t.Fatalf("ParseCTID(%q) error %v does not wrap ErrInvalidCTID", s, errID)
		}
		errName := ValidateName(s)
		if errName == nil {
			if !nameRE.MatchString(s) || len(s) > maxNameLen || slices.Contains(ReservedNames, s) {
				t.Fatalf("ValidateName accepted %q", s)
			}
		} else if !errors.Is(errName, ErrInvalidName) {
			t.Fatalf("ValidateName(%q) error %v does not wrap ErrInvalidName", s, errName)
		}
		if errID == nil && errName == nil {
			t.Fatalf("%q is both a CTID and a name", s)
		}
		if errName == nil && (strings.ContainsAny(s, "/\x00\n") || s == "." || s == "..") {
			t.Fatalf("name %q could escape /etc/vz/names", s)
		}
	})
}

// FuzzResolve: whatever /etc/vz/names/<name> points to, Resolve returns a
// valid CTID whose "<CTID>.conf" is the target's last element, or refuses.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{"/etc/vz/conf/101.conf", "101.conf", "../conf/7.conf", "101.conf/", "0101.conf",
		"/etc/vz/conf/2147483645.conf", ".conf", "/etc/passwd", "x/101.conf.bak"} {
		f.Add("web", seed)
	}
	f.Add("101", "")
	root := f.TempDir()
	names := filepath.Join(root, "etc/vz/names")
	if err := os.MkdirAll(names, 0o755); err != nil {
		f.Fatal(err)
	}
	h, err := OpenHost(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, arg, target string) {
		if ValidateName(arg) == nil {
			link := h.NamePath(arg)
			os.Remove(link)
			if target == "" || strings.ContainsRune(target, 0) || os.Symlink(target, link) != nil {
				return
			}
			defer os.Remove(link)
		}
		ctid, name, err := h.Resolve(arg)
		if err != nil {
			return
		}
		if CheckCTID(ctid) != nil {
			t.Fatalf("Resolve(%q) = %d, not a valid CTID", arg, ctid)
		}
		switch name {
		case "":
			if strconv.Itoa(ctid) != arg {
				t.Fatalf("Resolve(%q) = CTID %d", arg, ctid)
			}
		default:
			if name != arg || !strings.HasSuffix(target, "/"+strconv.Itoa(ctid)+".conf") && target != strconv.Itoa(ctid)+".conf" {
				t.Fatalf("Resolve(%q) via %q = %d, %q", arg, target, ctid, name)
			}
		}
	})
}

// FuzzLoadContainer: whatever vz.conf and <CTID>.conf hold, a container that
// loads has areas a reinstall can act on safely: absolute host paths under
// the root, not the root, apart from each other, with no "$", "..", or
// control character left.
func FuzzLoadContainer(f *testing.F) {
	f.Add("", "OSTEMPLATE=debian\n")
	f.Add("VE_PRIVATE=/vz/private/$VEID\nVE_ROOT=/vz/root/$VEID\n", "VE_PRIVATE=/data/$VEID/private\nHOSTNAME=h\n")
	f.Add("VE_PRIVATE=/vz/$X\n", "VE_ROOT=/vz/private/$VEID/root\n")
	f.Add("", "VE_PRIVATE=\"/vz/../etc\"\n")
	f.Add("LOCKDIR=/vz\n", "VE_PRIVATE=/vz\nVE_ROOT=/\n")
	root := f.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/vz/conf"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, vzconf, ctconf string) {
		for p, data := range map[string]string{"etc/vz/vz.conf": vzconf, "etc/vz/conf/101.conf": ctconf} {
			if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		h, err := OpenHost(root)
		if err != nil {
			return
		}
		ct, err := h.LoadContainerChecked(101)
		if err != nil {
			return
		}
		for key, p := range map[string]string{"VE_PRIVATE": ct.Private, "VE_ROOT": ct.Root} {
			if !strings.HasPrefix(p, root+"/") || filepath.Clean(p) != p {
				t.Fatalf("%s %q is not a clean path under the root %q", key, p, root)
			}
			if strings.ContainsAny(p, "$`") || strings.Contains(p, "/../") {
				t.Fatalf("%s %q kept a variable or ..", key, p)
			}
			if checkPlainValue("", key, p) != nil {
				t.Fatalf("%s %q holds a control character", key, p)
			}
		}
		if overlaps(ct.Private, ct.Root) || overlaps(ct.Private, h.LockDir) || overlaps(ct.Private, h.TemplateDir) {
			t.Fatalf("accepted overlapping areas: private %q root %q lock %q template %q", ct.Private, ct.Root, h.LockDir, h.TemplateDir)
		}
	})
}
