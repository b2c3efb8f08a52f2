package vz

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCTID(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0: refused
	}{
		{"1", 1},
		{"101", 101},
		{"2147483644", 2147483644},
		{"0", 0},
		{"00", 0},
		{"01", 0},
		{"0101", 0},
		{"-1", 0},
		{"+5", 0},
		{" 5", 0},
		{"5 ", 0},
		{"2147483645", 0},
		{"2147483647", 0},
		{"99999999999999999999", 0},
		{"", 0},
		{"1e3", 0},
		{"0x10", 0},
		{"١٢", 0}, // Arabic-Indic digits
		{"12\x00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCTID(tt.in)
			if tt.want == 0 {
				if err == nil || !errors.Is(err, ErrInvalidCTID) {
					t.Errorf("ParseCTID(%q) = %d, %v; want an ErrInvalidCTID", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseCTID(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"web", true},
		{"W", true},
		{"web-01.example_com+x", true},
		{"a1", true},
		{"Plan", true}, // reserved words are matched exactly
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
		{"", false},
		{".", false},
		{"..", false},
		{"/", false},
		{"a/b", false},
		{"x\x00", false},
		{"x\ny", false},
		{"x y", false},
		{"-x", false},
		{"_x", false},
		{".hidden", false},
		{"1web", false},
		{"101a", false},
		{"we{b}", false},
		{"wéb", false},
		{"ct", false},
		{"plan", false},
		{"recover", false},
		{"status", false},
		{"validate", false},
		{"fmt", false},
		{"plugins", false},
		{"version", false},
		{"help", false},
		{"completion", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := ValidateName(tt.in)
			if tt.ok && err != nil {
				t.Errorf("ValidateName(%q) = %v, want nil", tt.in, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateName(%q) = %v, want an ErrInvalidName", tt.in, err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	h := newTestHost(t, "")
	names := h.Path("/etc/vz/names")
	mustMkdir(t, names)
	links := map[string]string{
		"web":        "/etc/vz/conf/101.conf", // absolute, and absent under the root: never followed
		"rel":        "../conf/202.conf",
		"bare":       "303.conf",
		"txt":        "102.txt",
		"zeros":      "../conf/0101.conf",
		"zero":       "/etc/vz/conf/0.conf",
		"toobig":     "/etc/vz/conf/2147483645.conf",
		"dotconf":    "/etc/vz/conf/.conf",
		"dirtarget":  "/etc/vz/conf/101.conf/",
		"namedconf":  "/etc/vz/conf/web.conf",
		"signedconf": "/etc/vz/conf/+101.conf",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(names, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(names, "plainfile"), []byte("101.conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(names, "adir"))

	tests := []struct {
		arg      string
		wantID   int // 0: refused
		wantName string
		wantErr  error  // checked with errors.Is when set
		wantPart string // the error must say this
	}{
		{arg: "101", wantID: 101},
		{arg: "2147483644", wantID: 2147483644},
		{arg: "0101", wantErr: ErrInvalidCTID},
		{arg: "0", wantErr: ErrInvalidCTID},
		{arg: "web", wantID: 101, wantName: "web"},
		{arg: "rel", wantID: 202, wantName: "rel"},
		{arg: "bare", wantID: 303, wantName: "bare"},
		{arg: "txt", wantPart: "not to <CTID>.conf"},
		{arg: "zeros", wantErr: ErrInvalidCTID},
		{arg: "zero", wantErr: ErrInvalidCTID},
		{arg: "toobig", wantErr: ErrInvalidCTID},
		{arg: "dotconf"},
		{arg: "dirtarget"},
		{arg: "namedconf"},
		{arg: "signedconf"},
		{arg: "plainfile", wantPart: "is not a symlink"},
		{arg: "adir", wantPart: "is not a symlink"},
		{arg: "nosuch", wantErr: ErrUnknownContainer},
		{arg: "..", wantErr: ErrInvalidName},
		{arg: "a/b", wantErr: ErrInvalidName},
		{arg: "", wantErr: ErrInvalidName},
		{arg: "-web", wantErr: ErrInvalidName},
		{arg: "status", wantErr: ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			id, name, err := h.Resolve(tt.arg)
			if tt.wantID == 0 {
				if err == nil {
					t.Fatalf("Resolve(%q) = %d, %q; want an error", tt.arg, id, name)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Resolve(%q) error = %v, want one wrapping %v", tt.arg, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantPart) {
					t.Errorf("Resolve(%q) error = %q, want it to say %q", tt.arg, err, tt.wantPart)
				}
				return
			}
			if err != nil || id != tt.wantID || name != tt.wantName {
				t.Errorf("Resolve(%q) = %d, %q, %v; want %d, %q, nil", tt.arg, id, name, err, tt.wantID, tt.wantName)
			}
		})
	}
}
