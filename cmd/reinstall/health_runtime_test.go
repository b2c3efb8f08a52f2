package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// webHealthPipeline provisions, starts, runs the site's web.sh (a busybox
// httpd on 8080) inside the new container, then a health stage whose
// command must pass and whose port must listen.
func webHealthPipeline(h *testHost, port int, wait string) string {
	h.t.Helper()
	h.writeHostFile("etc/vz/site/web.sh", "httpd -p 8080 -h /\n", 0o644)
	return h.writePipelineFile(fmt.Sprintf("health-%d.hcl", port), fmt.Sprintf(`pipeline "health" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "web" {
    script = "/etc/vz/site/web.sh"
  }
  stage "configure" "health" {
    plugin  = "health"
    command = ["test", "-f", "/etc/motd"]
    tcp     = [%d]
    wait    = %q
  }
  stage "backup-retention" "retention" {}
}
`, port, wait))
}

// TestHealthThroughToolRuntimes: with vzctl and prlctl, the health stage's
// command runs through the tool's exec and its ports are read through it
// (the tables printed inside the container): a port that listens passes,
// one that does not rolls the run back to the old running container.
func TestHealthThroughToolRuntimes(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"vzctl", "prlctl"} {
		for _, tc := range []struct {
			name string
			port int
			wait string
		}{{"listening", 8080, "30s"}, {"not listening", 8081, "2s"}} {
			t.Run(tool+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				h := newTestHost(t)
				h.createCT()
				h.writePrivate("home/customer/unique", "old-data-marker\n", 0o644)
				h.mustCLI("ct", "start", "101")
				before := h.tree("")
				fake := h.installFakeTool(tool, "")
				r := h.cliEnv(fake.env(), "--runtime", tool, "--pipeline", webHealthPipeline(h, tc.port, tc.wait), "--stop", "101")

				_, calls := split(fake.calls(t))
				execVerb := map[string]string{"vzctl": "exec2", "prlctl": "exec"}[tool]
				var checks []string
				for _, c := range calls {
					if slices.Contains(c, execVerb) { // the command line last
						switch line := c[len(c)-1]; {
						case strings.HasPrefix(line, "for f in /proc/net/tcp /proc/net/tcp6;"):
							checks = append(checks, "tcp tables")
						case strings.HasSuffix(line, " VEID=101 test -f /etc/motd"):
							checks = append(checks, "command")
						}
					}
				}
				if checks = slices.Compact(checks); !slices.Equal(checks, []string{"command", "tcp tables"}) {
					t.Errorf("the checks through %s exec: %q, want the command then the tables; calls:\n%q", tool, checks, calls)
				}
				if tc.port == 8080 {
					if r.code != 0 || !strings.Contains(r.stderr, "    health: tcp 8080: listening on 8080\n") {
						t.Fatalf("exit %d, want 0 with the port seen listening\n%s", r.code, r.stderr)
					}
					if !exists(h.private("old/home/customer/unique")) {
						t.Error("the reinstalled container was not kept")
					}
				} else {
					want := "tcp 8081: not listening on 8081 (listening: 8080)"
					if r.code != engine.ExitFailed || !strings.Contains(r.lastLine(), want) {
						t.Fatalf("exit %d, last line %q; want %d with %q\n%s", r.code, r.lastLine(), engine.ExitFailed, want, r.stderr)
					}
					assertTree(t, "the old private area", before, h.tree(""))
				}
				if st := h.status(); st != "running" {
					t.Errorf("status %q, want running", st)
				}
				h.assertClean()
			})
		}
	}
}

// TestLXCHealth: with the lxc runtime the port is read from the TCP
// tables of the container's init (lxc-info --pid) and the command runs
// through lxc-attach; a port that does not listen rolls the run back to
// the old running LXC container.
func TestLXCHealth(t *testing.T) {
	for _, tc := range []struct {
		name string
		port int
		wait string
	}{{"listening", 8080, "30s"}, {"not listening", 8081, "2s"}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newLXCHost(t)
			h.startLXC()
			before, err := testenv.HashTree(h.rootfs(""))
			must(t, err)
			r := h.lxc("--stop", "-t", testenv.DefaultTemplate, "--pipeline", webHealthPipeline(h.testHost, tc.port, tc.wait), "web")
			if tc.port == 8080 {
				if r.code != 0 || !strings.Contains(r.stderr, "    health: tcp 8080: listening on 8080\n") ||
					!strings.Contains(r.stderr, "    health: command test -f /etc/motd: exited 0\n") {
					t.Fatalf("exit %d, want 0 with both checks passed\n%s", r.code, r.stderr)
				}
				if got := readFile(t, h.rootfs("old/home/customer/notes.txt")); got != "precious data\n" {
					t.Errorf("the reinstalled container was not kept: /old/home/customer/notes.txt is %q", got)
				}
			} else {
				want := "reinstall: health: health check failed after 2s"
				if r.code != engine.ExitFailed || !strings.HasPrefix(r.lastLine(), want) ||
					!strings.Contains(r.lastLine(), "tcp 8081: not listening on 8081 (listening: 8080)") {
					t.Fatalf("exit %d, last line %q; want %d, %q… naming the port\n%s", r.code, r.lastLine(), engine.ExitFailed, want, r.stderr)
				}
				after, err := testenv.HashTree(h.rootfs(""))
				must(t, err)
				assertTree(t, "the rolled back rootfs", withoutBootFiles(before), withoutBootFiles(after))
			}
			if st := h.state(); st != "RUNNING" {
				t.Errorf("LXC says %s, want RUNNING", st)
			}
			h.assertLXCClean()
		})
	}
}
