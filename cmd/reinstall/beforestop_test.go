package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// TestUnstartableNewAreaFoundBeforeStop: a new area the container could
// not start from (a template whose init is missing or not executable, or
// one a vps.reinstall left without it) and a vps.reinstall that cannot
// run are refused after provisioning and before the swap: with --stop, the
// running container is never stopped (its init is the same process), the
// run rolls back and exits 1.
func TestUnstartableNewAreaFoundBeforeStop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// template changes the template's rootfs ("" template: the default).
		template func(t *testing.T, rootfs string)
		hook     string // vps.reinstall's body, "" for none
		hookMode os.FileMode
		reason   string
	}{
		{
			name:     "template init not executable",
			template: func(t *testing.T, rootfs string) { must(t, os.Chmod(filepath.Join(rootfs, "sbin/test-init"), 0o644)) },
			reason:   "reinstall: swap: the new private area has /sbin/test-init, but it is not an executable file (the container's init, INIT): it could not start; the running container was not stopped",
		},
		{
			name:     "template without init",
			template: func(t *testing.T, rootfs string) { must(t, os.Remove(filepath.Join(rootfs, "sbin/test-init"))) },
			reason:   "reinstall: swap: the new private area has no /sbin/test-init (the container's init, INIT)",
		},
		{
			name:     "vps.reinstall removes the init",
			hook:     "#!/bin/sh\nrm \"$4/sbin/test-init\"\nexit 0\n",
			hookMode: 0o755,
			reason:   "reinstall: swap: the new private area has no /sbin/test-init",
		},
		{
			name:     "vps.reinstall not executable",
			hook:     "#!/bin/sh\nexit 0\n",
			hookMode: 0o644,
			reason:   "reinstall: vps-reinstall: vps.reinstall: cannot run it",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			args := []string{"--stop", "101"}
			if tc.template != nil {
				rootfs := t.TempDir()
				must(t, testenv.BuildRootfs(rootfs, "broken.example"))
				tc.template(t, rootfs)
				_, err := testenv.PackTemplate(rootfs, h.Path("vz/template/cache"), "broken-x86_64", ".tar.gz")
				must(t, err)
				args = append([]string{"--ostemplate", "broken-x86_64"}, args...)
			}
			if tc.hook != "" {
				h.writeScript("vps.reinstall", tc.hook, tc.hookMode)
			}
			h.mustCLI("ct", "start", "101")
			initBefore := h.initStartTime()
			before := h.tree("")

			r := h.cli(args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.lastLine(), tc.reason) {
				t.Errorf("last line %q, want prefix %q", r.lastLine(), tc.reason)
			}
			if strings.Contains(r.stderr, "stopping the container") {
				t.Errorf("the run stopped the container:\n%s", r.stderr)
			}
			if got := h.status(); got != "running" {
				t.Fatalf("status %q, want running", got)
			}
			if got := h.initStartTime(); got != initBefore {
				t.Errorf("the container's init started at %s, before the run at %s: it was restarted", got, initBefore)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()
		})
	}
}

// initStartTime is when container 101's init started (/proc/1/stat's
// starttime, in clock ticks since boot).
func (h *testHost) initStartTime() string {
	h.t.Helper()
	stat := h.exec("cat /proc/1/stat")
	// The fields after the command's ")" start at state (field 3);
	// starttime is field 22.
	f := strings.Fields(stat[strings.LastIndex(stat, ")")+1:])
	if len(f) < 20 {
		h.t.Fatalf("/proc/1/stat: %q", stat)
	}
	return f[19]
}
