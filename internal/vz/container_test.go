package vz

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoadContainer(t *testing.T) {
	const stockVZConf = "## global\nVE_ROOT=/vz/root/$VEID\nVE_PRIVATE=/vz/private/$VEID\nTEMPLATE=/vz/template\nLOCKDIR=/vz/lock\nONBOOT=no\n"
	tests := []struct {
		name    string
		vzconf  string
		ctconf  string
		want    Container // ID, Name, Private, Root (relative to the root), OSTemplate, Hostname, Init
		wantKey map[string]string
	}{
		{
			name:   "defaults without vz.conf",
			ctconf: "OSTEMPLATE=debian-12\n",
			want:   Container{Private: "vz/private/101", Root: "vz/root/101", OSTemplate: "debian-12", Init: "/sbin/init"},
		},
		{
			name:   "vz.conf then container",
			vzconf: stockVZConf,
			ctconf: "# ct\nONBOOT=yes\nNAME=\"web\"\nHOSTNAME='web.example.com'\nOSTEMPLATE=\"centos-7\"\nINIT=/sbin/test-init\n",
			want: Container{Name: "web", Private: "vz/private/101", Root: "vz/root/101", OSTemplate: "centos-7",
				Hostname: "web.example.com", Init: "/sbin/test-init"},
			wantKey: map[string]string{"ONBOOT": "yes", "TEMPLATE": "/vz/template"},
		},
		{
			name:   "container overrides areas",
			vzconf: stockVZConf,
			ctconf: "VE_PRIVATE=\"/data/private/${VEID}\"\nVE_ROOT=/mnt/ct$VEID\n",
			want:   Container{Private: "data/private/101", Root: "mnt/ct101", Init: "/sbin/init"},
		},
		{
			name:   "vz.conf areas apply",
			vzconf: "VE_PRIVATE=/srv/ve/$VEID/private\n",
			ctconf: "",
			want:   Container{Private: "srv/ve/101/private", Root: "vz/root/101", Init: "/sbin/init"},
		},
		{
			name:    "every VEID substituted in every key",
			ctconf:  "VE_PRIVATE=/p/$VEID/${VEID}\nCUSTOM=a-$VEID-b\n",
			want:    Container{Private: "p/101/101", Root: "vz/root/101", Init: "/sbin/init"},
			wantKey: map[string]string{"CUSTOM": "a-101-b"},
		},
		{
			name:   "last duplicate wins",
			ctconf: "HOSTNAME=a\nHOSTNAME=b\n",
			want:   Container{Hostname: "b", Private: "vz/private/101", Root: "vz/root/101", Init: "/sbin/init"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, tt.vzconf)
			mustWrite(t, h.ConfigPath(101), tt.ctconf)
			ct, err := h.LoadContainer(101)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ID = 101
			want.ConfigPath = filepath.Join(h.Root, "etc/vz/conf/101.conf")
			want.Private = filepath.Join(h.Root, want.Private)
			want.Root = filepath.Join(h.Root, want.Root)
			if diff := cmp.Diff(want, *ct, cmpopts.IgnoreFields(Container{}, "Config", "Keys")); diff != "" {
				t.Errorf("container mismatch (-want +got):\n%s", diff)
			}
			for k, v := range tt.wantKey {
				if got := ct.Keys[k]; got != v {
					t.Errorf("Keys[%q] = %q, want %q", k, got, v)
				}
			}
			if got := string(ct.Config.Bytes()); got != tt.ctconf {
				t.Errorf("Config is not the container file: %q, want %q", got, tt.ctconf)
			}
		})
	}
}

func TestLoadContainerKeepsRawConfig(t *testing.T) {
	h := newTestHost(t, "")
	mustWrite(t, h.ConfigPath(7), "VE_PRIVATE=/vz/private/$VEID\n")
	ct, err := h.LoadContainer(7)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := ct.Config.Get("VE_PRIVATE"); raw != "/vz/private/$VEID" {
		t.Errorf("Config VE_PRIVATE = %q, want the raw $VEID form", raw)
	}
	if ct.Keys["VE_PRIVATE"] != "/vz/private/7" {
		t.Errorf("Keys VE_PRIVATE = %q, want /vz/private/7", ct.Keys["VE_PRIVATE"])
	}
}

func TestLoadContainerRefused(t *testing.T) {
	tests := []struct {
		name, vzconf, ctconf string
		wantPart             string
	}{
		{name: "relative VE_PRIVATE", ctconf: "VE_PRIVATE=vz/private/$VEID\n", wantPart: "VE_PRIVATE"},
		{name: "relative VE_PRIVATE from vz.conf", vzconf: "VE_PRIVATE=private/$VEID\n", ctconf: "\n", wantPart: "VE_PRIVATE"},
		{name: "empty VE_PRIVATE", ctconf: "VE_PRIVATE=\"\"\n", wantPart: "VE_PRIVATE"},
		{name: "relative VE_ROOT", ctconf: "VE_ROOT=$VEID\n", wantPart: "VE_ROOT"},
		{name: "VE_PRIVATE is /", ctconf: "VE_PRIVATE=/\n", wantPart: "VE_PRIVATE"},
		{name: "VE_PRIVATE cleans to /", ctconf: "VE_PRIVATE=/vz/..//\n", wantPart: "VE_PRIVATE"},
		{name: "syntax error", ctconf: "A=1\nB=\"open\n", wantPart: "101.conf: line 2:"},
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
				t.Errorf("error %q does not mention %q", err, tt.wantPart)
			}
			if errors.Is(err, ErrUnknownContainer) {
				t.Errorf("error %q wraps ErrUnknownContainer", err)
			}
		})
	}
}

func TestLoadContainerUnknown(t *testing.T) {
	h := newTestHost(t, "")
	_, err := h.LoadContainer(404)
	if !errors.Is(err, ErrUnknownContainer) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadContainer(404) error = %v, want ErrUnknownContainer and fs.ErrNotExist", err)
	}
	if _, err := h.LoadContainer(0); !errors.Is(err, ErrInvalidCTID) {
		t.Errorf("LoadContainer(0) error = %v, want ErrInvalidCTID", err)
	}
}

func TestSubstVEID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/vz/root/$VEID", "/vz/root/101"},
		{"/vz/root/${VEID}", "/vz/root/101"},
		{"$VEID/${VEID}/$VEID", "101/101/101"},
		{"/vz/root/VEID", "/vz/root/VEID"},
		{"$VEI", "$VEI"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SubstVEID(tt.in, 101); got != tt.want {
				t.Errorf("SubstVEID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
