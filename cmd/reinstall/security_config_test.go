package main

import (
	"os"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// Config values a reinstall would act on in the wrong place (contract §1,
// §6) are refused before anything changes, saying what is wrong.
func TestUnsafeConfigRefused(t *testing.T) {
	t.Parallel()
	body := testenv.ConfigBody("ct101.example")
	cases := []struct {
		name   string
		config map[int]string
		want   string // the last stderr line, %ROOT% for the root
	}{
		{"relative VE_PRIVATE", map[int]string{101: body + "VE_PRIVATE=vz/private/101\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE="vz/private/101": must be an absolute path`},
		{"VE_PRIVATE climbing with ..", map[int]string{101: body + "VE_PRIVATE=/vz/private/$VEID/../../../host\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE="/vz/private/101/../../../host": must not contain ".."`},
		{"VE_PRIVATE is /", map[int]string{101: body + "VE_PRIVATE=/\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE="/": must not be the root directory`},
		{"VE_PRIVATE with another variable", map[int]string{101: body + "VE_PRIVATE=/vz/private/$VEID$SUFFIX\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE="/vz/private/101$SUFFIX": '$' is not allowed (only $VEID and ${VEID} are substituted)`},
		{"VE_PRIVATE with a carriage return", map[int]string{101: body + "VE_PRIVATE=\"/vz/private/101\r\"\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE="/vz/private/101\r": contains the control character '\r'`},
		{"HOSTNAME with an escape sequence", map[int]string{101: body + "HOSTNAME=\"x\x1b[2J\"\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: HOSTNAME="x\x1b[2J": contains the control character '\x1b'`},
		{"VE_PRIVATE inside another container's", map[int]string{102: "VE_PRIVATE=/vz/private/101/home\nVE_ROOT=/vz/root/102\n"},
			"reinstall: preflight: areas overlap: VE_PRIVATE %ROOT%/vz/private/101 of container 101 and VE_PRIVATE %ROOT%/vz/private/101/home of container 102 (%ROOT%/etc/vz/conf/102.conf)"},
		{"VE_PRIVATE holding another container's", map[int]string{101: body + "VE_PRIVATE=/vz/private\nVE_ROOT=/mnt/101\n", 102: ""},
			"reinstall: preflight: areas overlap: VE_PRIVATE %ROOT%/vz/private of container 101 and VE_PRIVATE %ROOT%/vz/private/102 of container 102 (%ROOT%/etc/vz/conf/102.conf)"},
		{"VE_PRIVATE is another container's VE_ROOT", map[int]string{101: body + "VE_PRIVATE=/vz/root/102\n", 102: ""},
			"reinstall: preflight: areas overlap: VE_PRIVATE %ROOT%/vz/root/102 of container 101 and VE_ROOT %ROOT%/vz/root/102 of container 102 (%ROOT%/etc/vz/conf/102.conf)"},
		{"VE_PRIVATE holding the lock directory", map[int]string{101: body + "VE_PRIVATE=/vz\nVE_ROOT=/mnt/101\n"},
			"reinstall: preflight: areas overlap: VE_PRIVATE %ROOT%/vz of container 101 and LOCKDIR %ROOT%/vz/lock"},
		{"VE_ROOT inside the private area", map[int]string{101: body + "VE_ROOT=/vz/private/$VEID/mnt\n"},
			"reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: areas overlap: VE_PRIVATE %ROOT%/vz/private/101 and VE_ROOT %ROOT%/vz/private/101/mnt must be apart"},
		{"VE_ROOT inside another container's private area", map[int]string{101: body + "VE_ROOT=/vz/private/102/mnt\n", 102: ""},
			"reinstall: preflight: areas overlap: VE_ROOT %ROOT%/vz/private/102/mnt of container 101 and VE_PRIVATE %ROOT%/vz/private/102 of container 102 (%ROOT%/etc/vz/conf/102.conf)"},
		{"HOSTNAME over 64 bytes", map[int]string{101: body + "HOSTNAME=" + strings.Repeat("h", 65) + "\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: HOSTNAME: hostname "` + strings.Repeat("h", 65) + `": must be 1-64 characters`},
		{"HOSTNAME with a space", map[int]string{101: body + "HOSTNAME=\"web 1\"\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: HOSTNAME: hostname "web 1": invalid character ' '`},
		{"relative INIT", map[int]string{101: body + "INIT=sbin/init\n"},
			`reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: INIT="sbin/init": must be an absolute path inside the container`},
		{"VE_PRIVATE is /var/log", map[int]string{101: body + "VE_PRIVATE=/var/log\n"},
			"reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE %ROOT%/var/log is a system directory of the host (%ROOT%/var/log): a reinstall would swap it away; refusing it"},
		{"VE_PRIVATE is /home", map[int]string{101: body + "VE_PRIVATE=/home\n"},
			"reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE %ROOT%/home is a system directory of the host (%ROOT%/home): a reinstall would swap it away; refusing it"},
		{"VE_PRIVATE is /usr/", map[int]string{101: body + "VE_PRIVATE=/usr/\n"},
			"reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_PRIVATE %ROOT%/usr is a system directory of the host (%ROOT%/usr): a reinstall would swap it away; refusing it"},
		{"VE_ROOT is /usr/local", map[int]string{101: body + "VE_ROOT=/usr/local\n"},
			"reinstall: preflight: %ROOT%/etc/vz/conf/101.conf: VE_ROOT %ROOT%/usr/local is a system directory of the host (%ROOT%/usr/local): the container would be mounted over it; refusing it"},
		{"another container's config unreadable", map[int]string{102: "VE_PRIVATE=\"/vz\n"},
			"reinstall: preflight: cannot check the areas of container 101 against container 102: %ROOT%/etc/vz/conf/102.conf: line 1: VE_PRIVATE: unterminated \" quote"},
	}
	host := newTestHost(t)
	host.createCT()
	canaries := host.canaries()
	before := host.tree("")
	if err := canaries.Arm(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &testHost{Host: host.Host, t: t}
			for ctid, conf := range tc.config {
				if err := h.WriteConfig(ctid, conf); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() {
				h.WriteConfig(101, body)
				h.WriteConfig(102, "")
			})
			r := h.cli("--skipbackup", "101")
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			if want := strings.ReplaceAll(tc.want, "%ROOT%", h.Root); withoutLogSuffix(r.lastLine()) != want {
				t.Errorf("last line\n%q, want\n%q", r.lastLine(), want)
			}
			if err := canaries.Check(); err != nil {
				t.Errorf("host files touched:\n%v", err)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()
		})
	}
}

// `ct create` and `ct start` make directories on the host (the new area's
// parents, VE_ROOT): with an area inside another container's, that
// container's symlinks would steer them onto the host. Both are refused.
func TestCtCommandsStayOutOfOtherAreas(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	h.WriteConfig(102, testenv.ConfigBody("ct102"))
	h.mustCLI("ct", "create", "102", "--ostemplate", testenv.DefaultTemplate)
	canaries := h.canaries()
	if err := os.RemoveAll(h.private("etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canaries.Path("etc"), h.private("etc")); err != nil {
		t.Fatal(err)
	}
	before := h.tree("")
	if err := canaries.Arm(); err != nil {
		t.Fatal(err)
	}
	h.WriteConfig(103, "VE_PRIVATE=/vz/private/101/etc/ct103\n")
	if r := h.cli("ct", "create", "103", "--ostemplate", testenv.DefaultTemplate); r.code == 0 || !strings.Contains(r.stderr, "areas overlap") {
		t.Errorf("ct create inside container 101's area: exit %d\n%s", r.code, r.stderr)
	}
	h.WriteConfig(102, testenv.ConfigBody("ct102")+"VE_ROOT=/vz/private/101/etc/mnt\n")
	if r := h.cli("ct", "start", "102"); r.code == 0 || !strings.Contains(r.stderr, "areas overlap") {
		t.Errorf("ct start with VE_ROOT inside container 101's area: exit %d\n%s", r.code, r.stderr)
		h.cli("ct", "stop", "102")
	}
	if err := canaries.Check(); err != nil {
		t.Errorf("host files touched:\n%v", err)
	}
	assertTree(t, "container 101's area", before, h.tree(""))
}
