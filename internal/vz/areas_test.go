package vz

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Values a reinstall would turn into a swap, a move or a deletion in the wrong
// place are refused when the config loads (contract §1, §6).
func TestLoadContainerRefusesUnsafeValues(t *testing.T) {
	tests := []struct {
		name, vzconf, ctconf string
		wantPart             string
	}{
		{name: "dot-dot in VE_PRIVATE", ctconf: "VE_PRIVATE=/vz/private/$VEID/../../../etc\n", wantPart: `VE_PRIVATE="/vz/private/101/../../../etc": must not contain ".."`},
		{name: "dot-dot at the end", ctconf: "VE_PRIVATE=/vz/private/$VEID/..\n", wantPart: `must not contain ".."`},
		{name: "dot-dot in VE_ROOT", ctconf: "VE_ROOT=/vz/root/../private/$VEID\n", wantPart: "VE_ROOT"},
		{name: "another variable", ctconf: "VE_PRIVATE=/vz/private/$HOME\n", wantPart: `'$' is not allowed (only $VEID and ${VEID} are substituted)`},
		{name: "unknown braced variable", ctconf: "VE_PRIVATE=/vz/${CTID}/private\n", wantPart: `'$' is not allowed`},
		{name: "command substitution", ctconf: "VE_PRIVATE=\"/vz/`id -u`\"\n", wantPart: "'`' is not allowed"},
		{name: "dollar in vz.conf", vzconf: "VE_PRIVATE=/vz/private/$VEID$X\n", ctconf: "\n", wantPart: "VE_PRIVATE"},
		{name: "carriage return", ctconf: "VE_PRIVATE=\"/vz/private/1\r01\"\n", wantPart: `control character '\r'`},
		{name: "tab", ctconf: "VE_PRIVATE=\"/vz/private/\t101\"\n", wantPart: `control character '\t'`},
		{name: "NUL", ctconf: "VE_PRIVATE=/vz/private/1\x0001\n", wantPart: `control character '\x00'`},
		{name: "escape in HOSTNAME", ctconf: "HOSTNAME=\"web\x1b[2Jx\"\n", wantPart: "HOSTNAME"},
		{name: "carriage return in NAME", ctconf: "NAME=\"web\r\"\n", wantPart: "NAME"},
		{name: "DEL in OSTEMPLATE", ctconf: "OSTEMPLATE=\"deb\x7f\"\n", wantPart: "OSTEMPLATE"},
		{name: "VE_ROOT inside VE_PRIVATE", ctconf: "VE_PRIVATE=/vz/private/$VEID\nVE_ROOT=/vz/private/$VEID/mnt\n", wantPart: "must be apart"},
		{name: "VE_PRIVATE inside VE_ROOT", ctconf: "VE_PRIVATE=/vz/root/$VEID/private\n", wantPart: "must be apart"},
		{name: "VE_ROOT is VE_PRIVATE", ctconf: "VE_ROOT=/vz/private/$VEID\n", wantPart: "must be apart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, tt.vzconf)
			mustWrite(t, h.ConfigPath(101), tt.ctconf)
			ct, err := h.LoadContainer(101)
			if err == nil {
				t.Fatalf("LoadContainer = %+v, want an error", ct)
			}
			if !strings.Contains(err.Error(), tt.wantPart) {
				t.Errorf("error %q does not say %q", err, tt.wantPart)
			}
			if !strings.Contains(err.Error(), "101.conf") {
				t.Errorf("error %q does not name the config file", err)
			}
		})
	}
}

func TestOpenHostRefusesUnsafeDirs(t *testing.T) {
	for _, vzconf := range []string{"LOCKDIR=/vz/$LOCK\n", "TEMPLATE=\"/vz/tmpl\r\"\n", "LOCKDIR=\"/vz/`x`\"\n"} {
		root := t.TempDir()
		mustWrite(t, filepath.Join(root, "etc/vz/vz.conf"), vzconf)
		if h, err := OpenHost(root); err == nil {
			t.Errorf("OpenHost with %q = %+v, want an error", vzconf, h)
		} else if !strings.Contains(err.Error(), "vz.conf") {
			t.Errorf("error %q does not name vz.conf", err)
		}
	}
}

func TestCheckIsolation(t *testing.T) {
	tests := []struct {
		name     string
		vzconf   string
		configs  map[int]string // every container config; 101 is checked
		setup    func(t *testing.T, root string)
		wantPart string // "" : accepted
	}{
		{name: "stock layout, several containers", configs: map[int]string{101: "", 102: "", 1010: ""}},
		{name: "unrelated files in conf", configs: map[int]string{101: ""}, setup: func(t *testing.T, root string) {
			for _, f := range []string{"vps.reinstall", "0102.conf", "ve-basic.conf-sample", "102.conf.bak"} {
				mustWrite(t, filepath.Join(root, "etc/vz/conf", f), "VE_PRIVATE=/vz/private/101\n")
			}
		}},
		{name: "same VE_PRIVATE as another", configs: map[int]string{101: "VE_PRIVATE=/vz/private/102\n", 102: ""},
			wantPart: "VE_PRIVATE " + "%ROOT%/vz/private/102 of container 101 and VE_PRIVATE %ROOT%/vz/private/102 of container 102"},
		{name: "inside another's VE_PRIVATE", configs: map[int]string{101: "VE_PRIVATE=/vz/private/102/home/x\n", 102: ""},
			wantPart: "of container 101 and VE_PRIVATE %ROOT%/vz/private/102 of container 102"},
		{name: "holding another's VE_PRIVATE", configs: map[int]string{101: "VE_PRIVATE=/vz/private\n", 102: ""},
			wantPart: "VE_PRIVATE %ROOT%/vz/private of container 101 and VE_PRIVATE %ROOT%/vz/private/102"},
		{name: "another holds ours", configs: map[int]string{101: "", 102: "VE_PRIVATE=/vz\nVE_ROOT=/mnt/102\n"},
			wantPart: "and VE_PRIVATE %ROOT%/vz of container 102"},
		{name: "another's VE_ROOT", configs: map[int]string{101: "VE_PRIVATE=/vz/root/102\n", 102: ""},
			wantPart: "and VE_ROOT %ROOT%/vz/root/102 of container 102"},
		{name: "our VE_ROOT in another's private area", configs: map[int]string{101: "VE_ROOT=/vz/private/102/mnt\n", 102: ""},
			wantPart: "VE_ROOT %ROOT%/vz/private/102/mnt of container 101 and VE_PRIVATE %ROOT%/vz/private/102 of container 102"},
		{name: "same area through a symlinked parent", configs: map[int]string{101: "VE_PRIVATE=/alias/102\n", 102: ""},
			setup: func(t *testing.T, root string) {
				mustMkdir(t, filepath.Join(root, "vz/private"))
				if err := os.Symlink("vz/private", filepath.Join(root, "alias")); err != nil {
					t.Fatal(err)
				}
			}, wantPart: "of container 102"},
		{name: "holding the lock directory", configs: map[int]string{101: "VE_PRIVATE=/vz\nVE_ROOT=/mnt/101\n"},
			wantPart: "and LOCKDIR %ROOT%/vz/lock"},
		{name: "the template directory", configs: map[int]string{101: "VE_PRIVATE=/vz/template\n"},
			wantPart: "and TEMPLATE %ROOT%/vz/template"},
		{name: "holding the vz configuration", configs: map[int]string{101: "VE_PRIVATE=/etc\n"},
			wantPart: "and the vz configuration directory %ROOT%/etc/vz"},
		{name: "vz.conf puts everyone in one place", vzconf: "VE_PRIVATE=/vz/private/shared\n", configs: map[int]string{101: "", 102: ""},
			wantPart: "of container 102"},
		{name: "another's bad HOSTNAME is not ours to refuse", configs: map[int]string{101: "", 102: "HOSTNAME=\"x\r\"\n"}},
		{name: "another config is broken", configs: map[int]string{101: "", 102: "VE_PRIVATE=\"/vz\n"},
			wantPart: "cannot check the areas of container 101 against container 102"},
		{name: "another config is unsafe", configs: map[int]string{101: "", 102: "VE_PRIVATE=/vz/$X\n"},
			wantPart: "cannot check the areas of container 101 against container 102"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, tt.vzconf)
			for id, body := range tt.configs {
				mustWrite(t, h.ConfigPath(id), body)
			}
			if tt.setup != nil {
				tt.setup(t, h.Root)
			}
			ct, err := h.LoadContainerChecked(101)
			if tt.wantPart == "" {
				if err != nil {
					t.Fatalf("LoadContainerChecked: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadContainerChecked = %+v, want a refusal", ct)
			}
			if want := strings.ReplaceAll(tt.wantPart, "%ROOT%", h.Root); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\ndoes not say %q", err, want)
			}
			if strings.Contains(tt.name, "broken") || strings.Contains(tt.name, "unsafe") {
				return
			}
			if !errors.Is(err, ErrAreaOverlap) {
				t.Errorf("error %q does not wrap ErrAreaOverlap", err)
			}
		})
	}
}
