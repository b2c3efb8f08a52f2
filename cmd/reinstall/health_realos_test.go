package main

import (
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// brokenUnitHook is a vps.reinstall that keeps the provisioned area
// ("custom" mode) after enabling in it a unit that fails at boot: the
// new systemd comes up degraded.
const brokenUnitHook = `#!/bin/sh
new=$4
mkdir -p "$new/etc/systemd/system/multi-user.target.wants"
cat > "$new/etc/systemd/system/broken.service" <<'UNIT'
[Unit]
Description=a unit that fails at boot
[Service]
Type=oneshot
ExecStart=/bin/false
[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/broken.service "$new/etc/systemd/system/multi-user.target.wants/broken.service"
exit 0
`

// TestRealOSHealthDegraded: the Debian template booting with a failed
// unit reaches systemd's degraded state. A health stage without
// allow_degraded refuses it when its wait runs out, naming the failed unit,
// and the old container is back as it was; the default pipeline's health
// stage accepts it with a warning naming the unit, and keeps the new one.
func TestRealOSHealthDegraded(t *testing.T) {
	h := newDebianHost(t)
	h.writeScript("vps.reinstall", brokenUnitHook, 0o755)
	before := h.tree("")

	strict := h.writePipelineFile("strict.hcl", healthPipeline(t, "", `    systemd = "auto"
    wait    = "40s"`))
	r := h.cli("--stop-timeout", "90s", "--pipeline", strict, "101")
	if r.code != engine.ExitFailed {
		t.Fatalf("without allow_degraded: exit %d, want %d\n%s", r.code, engine.ExitFailed, r.stderr)
	}
	if last := r.lastLine(); !strings.HasPrefix(last, "reinstall: health: health check failed after 40s") ||
		!strings.Contains(last, "systemd: degraded, failed units: broken.service") {
		t.Errorf("last line %q, want the health stage naming systemd's state and the failed unit", last)
	}
	if st := h.status(); st != "stopped" {
		t.Errorf("status %q after the rollback, want stopped (as before the run)", st)
	}
	assertTree(t, "the old private area", before, h.tree(""))
	h.assertClean()

	r = h.mustCLI("--stop-timeout", "90s", "--json", "101")
	var warnings []string
	for _, ev := range parseEvents(t, r.stdout) {
		if ev.Type == engine.EventStageLog && ev.Stage == "health" && ev.Level == "warn" {
			warnings = append(warnings, ev.Message)
		}
	}
	if want := "systemd is degraded (allowed): failed units: broken.service"; len(warnings) != 1 || warnings[0] != want {
		t.Errorf("the default health stage's warnings %q, want [%q]", warnings, want)
	}
	if st := h.status(); st != "running" {
		t.Errorf("status %q, want running", st)
	}
	if !exists(h.private("etc/systemd/system/broken.service")) || !exists(h.private("old/etc/systemd/system/stop-marker.service")) {
		t.Error("the degraded container was not kept, with the old one at /old")
	}
	h.mustCLI("--stop-timeout", "90s", "ct", "stop", "101")
	h.assertClean()
}
