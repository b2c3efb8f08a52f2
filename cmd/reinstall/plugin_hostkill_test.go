package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPluginsDieWithTheHost SIGKILLs reinstall while an external plugin
// hangs in a stage after the swap: the plugins notice their host is gone
// and end, with everything they started, and `reinstall recover` puts the
// old container back.
func TestPluginsDieWithTheHost(t *testing.T) {
	t.Parallel()
	h := newTestHost(t)
	h.createCT()
	tag := newTag(t)
	dir := h.Path("plugin-dir")
	installPlugin(t, dir, "crashy", crashyWrapper("serve", tag), 0o755)
	pipeline := h.writePipelineFile("crashy.hcl", crashyPipeline("configure", `    mode = "hang"`))
	before := h.tree("")

	cmd := exec.Command(os.Args[0], "--root", h.Root, "--stop-timeout", "3s", "--pipeline", pipeline, "101")
	cmd.Env = append(os.Environ(), "REINSTALL_TEST_CLI=1", "REINSTALL_PLUGIN_DIR="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hanging := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "crashy: hang (grandchild") {
				close(hanging)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-hanging:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the plugin never started hanging")
	}
	if len(taggedProcesses(tag)) < 2 {
		t.Errorf("want the plugin and its grandchild running before the kill, got %v", taggedProcesses(tag))
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	waitFor(t, "the plugin and its grandchild to end after their host", func() bool { return len(taggedProcesses(tag)) == 0 })
	// Recovery finds the plugin where the run did, from its journal: the
	// operator's shell need not have the run's $REINSTALL_PLUGIN_DIR.
	r := h.cliEnv([]string{"REINSTALL_PLUGIN_DIR="}, "recover", "101")
	if r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Errorf("recover: exit %d, %q, want a rollback\n%s", r.code, r.stdout, r.stderr)
	}
	assertTree(t, "the private area", before, h.tree(""))
	if got := h.status(); got != "stopped" {
		t.Errorf("status %q after recover, want stopped", got)
	}
	h.assertClean()
}
