package vz

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     map[string]string
		wantLine int // >0: a *SyntaxError on this line
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "unquoted", in: "A=b\n", want: map[string]string{"A": "b"}},
		{name: "double quotes", in: `A="b c"` + "\n", want: map[string]string{"A": "b c"}},
		{name: "single quotes", in: "A='b c'\n", want: map[string]string{"A": "b c"}},
		{name: "two quoted parts", in: `A=""b""` + "\n", wantLine: 1},
		{name: "other quote inside", in: `A="it's"` + "\nB='say \"hi\"'\n", want: map[string]string{"A": "it's", "B": `say "hi"`}},
		{name: "empty values", in: "A=\nB=\"\"\nC=''\n", want: map[string]string{"A": "", "B": "", "C": ""}},
		{name: "comments and blanks", in: "# c\n\n   \n\t# indented\nA=1\n#B=2\n", want: map[string]string{"A": "1"}},
		{name: "comment after quoted value", in: `A="x y"   # note` + "\nB='z'#tight\n", want: map[string]string{"A": "x y", "B": "z"}},
		{name: "comment after unquoted value", in: "A=x # note\nB=x#not-a-comment\n", want: map[string]string{"A": "x", "B": "x#not-a-comment"}},
		{name: "hash inside quotes", in: `A="x # y"` + "\n", want: map[string]string{"A": "x # y"}},
		{name: "duplicates last wins", in: "A=1\nB=x\nA=2\nA=\"3\"\n", want: map[string]string{"A": "3", "B": "x"}},
		{name: "VEID kept raw", in: "VE_ROOT=/vz/root/$VEID\nVE_PRIVATE=\"/vz/private/${VEID}\"\n", want: map[string]string{"VE_ROOT": "/vz/root/$VEID", "VE_PRIVATE": "/vz/private/${VEID}"}},
		{name: "unquoted with spaces", in: "DESCRIPTION=a b  c   \n", want: map[string]string{"DESCRIPTION": "a b  c"}},
		{name: "leading blanks before key", in: "  A=1\n\tB=2\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "equals in value", in: "A=b=c\n", want: map[string]string{"A": "b=c"}},
		{name: "CRLF", in: "A=\"1\"\r\nB=2\r\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "no final newline", in: "A=1\nB=2", want: map[string]string{"A": "1", "B": "2"}},
		{name: "missing equals", in: "A=1\nfoo\n", wantLine: 2},
		{name: "space before equals", in: "A =1\n", wantLine: 1},
		{name: "key starts with digit", in: "# x\n\n1A=1\n", wantLine: 3},
		{name: "export prefix", in: "export A=1\n", wantLine: 1},
		{name: "empty key", in: "=1\n", wantLine: 1},
		{name: "unterminated double quote", in: "A=\"abc\n", wantLine: 1},
		{name: "unterminated single quote", in: "A=1\nB='abc\n", wantLine: 2},
		{name: "text after closing quote", in: "A=\"abc\"def\n", wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.in))
			if tt.wantLine > 0 {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("ParseConfig(%q) error = %v, want a *SyntaxError", tt.in, err)
				}
				if se.Line != tt.wantLine {
					t.Errorf("error %q names line %d, want %d", err, se.Line, tt.wantLine)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, c.Keys()); diff != "" {
				t.Errorf("Keys() mismatch (-want +got):\n%s", diff)
			}
			for k, v := range tt.want {
				if got, ok := c.Get(k); !ok || got != v {
					t.Errorf("Get(%q) = %q, %v; want %q, true", k, got, ok, v)
				}
			}
			if got := string(c.Bytes()); got != tt.in {
				t.Errorf("Bytes() without changes = %q, want the input %q", got, tt.in)
			}
		})
	}
}

func TestConfigGetMissing(t *testing.T) {
	c, err := ParseConfig([]byte("A=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("B"); ok || v != "" {
		t.Errorf(`Get("B") = %q, %v; want "", false`, v, ok)
	}
}

func TestLoadConfigNamesFileAndLine(t *testing.T) {
	path := filepath.Join("testdata", "bad.conf")
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("LoadConfig(bad.conf) succeeded")
	}
	if want := path + ": line 4: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
}

// TestConfigRewriteFixture sets keys in a hand-edited file and compares the
// whole result: comments, blanks, unknown keys, raw $VEID and the trailing
// comment of a rewritten line survive byte-for-byte.
func TestConfigRewriteFixture(t *testing.T) {
	c, err := LoadConfig(filepath.Join("testdata", "rewrite.conf"))
	if err != nil {
		t.Fatal(err)
	}
	c.Set("OSTEMPLATE", "debian-12-x86_64")
	c.Set("HOSTNAME", "new.example.com")       // duplicate: the last one is rewritten
	c.Set("VE_PRIVATE", "/vz/private/${VEID}") // unchanged: left as written
	c.Set("NAME", "web")                       // unchanged
	c.Set("DISTRIBUTION", "debian")            // new: appended
	want, err := os.ReadFile(filepath.Join("testdata", "rewrite.golden.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(c.Bytes())); diff != "" {
		t.Errorf("rewritten file mismatch (-want +got):\n%s", diff)
	}
	if v, _ := c.Get("HOSTNAME"); v != "new.example.com" {
		t.Errorf("Get(HOSTNAME) after Set = %q", v)
	}
}

func TestConfigSet(t *testing.T) {
	tests := []struct {
		name, in, key, value, want string
	}{
		{"rewrite in place", "# c\nA=1\nB=2\n", "A", "x", "# c\nA=\"x\"\nB=2\n"},
		{"last duplicate", "A=1\nA=2\nB=3\n", "A", "x", "A=1\nA=\"x\"\nB=3\n"},
		{"keeps trailing comment", "A='1'  # why\n", "A", "2", "A=\"2\"  # why\n"},
		{"append", "# only a comment\nA=1\n", "NEW", "v w", "# only a comment\nA=1\nNEW=\"v w\"\n"},
		{"append to empty", "", "A", "1", "A=\"1\"\n"},
		{"append without final newline", "A=1", "B", "2", "A=1\nB=\"2\"\n"},
		{"rewrite without final newline", "A=1", "A", "2", "A=\"2\""},
		{"same value untouched", "A=/vz/$VEID\n", "A", "/vz/$VEID", "A=/vz/$VEID\n"},
		{"value with double quote", "A=1\n", "A", `say "hi"`, "A='say \"hi\"'\n"},
		{"raw VEID written raw", "A=1\n", "A", "/vz/root/$VEID", "A=\"/vz/root/$VEID\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			c.Set(tt.key, tt.value)
			if diff := cmp.Diff(tt.want, string(c.Bytes())); diff != "" {
				t.Errorf("Bytes() mismatch (-want +got):\n%s", diff)
			}
			// What Set writes must read back as the value set.
			back, err := ParseConfig(c.Bytes())
			if err != nil {
				t.Fatalf("re-parse: %v", err)
			}
			if v, _ := back.Get(tt.key); v != tt.value {
				t.Errorf("re-parsed %s = %q, want %q", tt.key, v, tt.value)
			}
		})
	}
}

func TestConfigSetRefusesUnwritable(t *testing.T) {
	tests := []struct{ name, key, value string }{
		{"newline in value", "A", "x\ny"},
		{"NUL in value", "A", "x\x00"},
		{"both quotes", "A", `it's "x"`},
		{"bad key", "A B", "x"},
		{"empty key", "", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Set(%q, %q) did not panic", tt.key, tt.value)
				}
			}()
			(&Config{}).Set(tt.key, tt.value)
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "101.conf")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new\n" {
		t.Errorf("content = %q, want %q", got, "new\n")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only 101.conf (temp file left?)", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x.conf"), nil, 0o644); err == nil {
		t.Error("WriteFileAtomic into a missing directory succeeded")
	}
}
