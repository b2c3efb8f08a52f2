//go:build faultinject

package main

import (
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// The --skipbackup deletion is the one step that walks a whole hostile old
// area. Kill the host, or the plugin doing it, in the middle of it, for every
// trick: `reinstall recover` must finish the deletion without following
// anything out of the trash, and leave the reinstalled container running.
func TestHostileDeletionRecovered(t *testing.T) {
	t.Parallel()
	points := []string{"host:remove:5@backup-retention", "plugin:remove:5@backup-retention"}
	for _, trick := range testenv.HostileTricks() {
		t.Run(trick.Name, func(t *testing.T) {
			t.Parallel()
			host := newTestHost(t)
			if trick.Large {
				host.mountTmpfs(host.Path("vz/private"), "size=512m,nr_inodes=400k")
			}
			host.createCT()
			pristine := host.Path("pristine-101")
			copyTree(t, host.private(""), pristine)
			canaries := host.canaries()
			for _, point := range points {
				if trick.Large {
					point = strings.Replace(point, ":5@", ":50000@", 1) // half-way through
				}
				t.Run(point, func(t *testing.T) {
					h := &testHost{Host: host.Host, t: t}
					h.resetCT(pristine)
					if err := trick.Plant(h.private(""), canaries); err != nil {
						t.Fatal(err)
					}
					if err := canaries.Arm(); err != nil {
						t.Fatal(err)
					}
					r := h.cliEnv([]string{"REINSTALL_FAULT=" + point}, "--skipbackup", "101")
					if r.code == 0 {
						t.Fatalf("the fault point %s was never reached\n%s", point, r.stderr)
					}
					if err := canaries.Check(); err != nil {
						t.Errorf("host files touched before the kill:\n%v", err)
					}
					rec := h.cli("recover", "101")
					if rec.code != 0 || !strings.Contains(rec.stdout, engine.RecoveredForward) {
						t.Fatalf("recover: exit %d, want a roll-forward\n%s%s\nrun stderr:\n%s", rec.code, rec.stdout, rec.stderr, r.stderr)
					}
					if err := canaries.Check(); err != nil {
						t.Errorf("host files touched by recover:\n%v", err)
					}
					if got := h.status(); got != "running" {
						t.Errorf("status %q after the roll-forward, want running", got)
					}
					if exists(h.private("old")) || exists(h.private("etc/broken.conf")) || !exists(h.private("etc/motd")) {
						t.Error("after the roll-forward the area is not the fresh template without /old")
					}
					h.assertClean()
				})
			}
		})
	}
}
