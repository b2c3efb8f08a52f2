package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Helpers of the plugin tests: installing plugins in a test host's plugin
// directories, building the example plugin, and checking that no plugin
// process outlives a run.

// sitePluginDir is where the tests install plugins under --root.
const sitePluginDir = "etc/vz/reinstall/plugins"

// installPlugin copies a plugin file into dir as reinstall-plugin-<name>,
// root-owned with the given mode, and returns its path.
func installPlugin(t *testing.T, dir, name string, content []byte, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "reinstall-plugin-"+name)
	if err := os.WriteFile(p, content, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// crashyWrapper is the crashy plugin's file: a script that runs this test
// binary as the plugin, serving the way how says, marked with tag.
func crashyWrapper(how, tag string) []byte {
	return fmt.Appendf(nil, "#!/bin/sh\nexec env %s=%s %s=%s %s\n", envTestPlugin, how, envTestTag, tag, os.Args[0])
}

// newTag returns a random marker for one test's plugin processes.
func newTag(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// buildLicensePlugin builds the example vendor plugin (its own module,
// against plugin-sdk only) and returns the binary's path.
func buildLicensePlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reinstall-plugin-acme-license")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "examples", "plugins", "license-installer")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the example plugin: %v\n%s", err, out)
	}
	return bin
}

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writePipelineFile writes a pipeline under the root and returns its path.
func (h *testHost) writePipelineFile(name, body string) string {
	h.t.Helper()
	p := h.Path("etc/vz/" + name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// taggedProcesses lists the live processes whose environment carries the
// tag (zombies have none).
func taggedProcesses(tag string) []string {
	return scanProcesses(func(pid string) bool {
		env, _ := os.ReadFile("/proc/" + pid + "/environ")
		return bytes.Contains(env, []byte(envTestTag+"="+tag+"\x00"))
	})
}

// processesOf lists the live processes executing the file at path.
func processesOf(path string) []string {
	return scanProcesses(func(pid string) bool {
		exe, _ := os.Readlink("/proc/" + pid + "/exe")
		return strings.TrimSuffix(exe, " (deleted)") == path
	})
}

func scanProcesses(match func(pid string) bool) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid := filepath.Base(d)
		if match(pid) {
			cmdline, _ := os.ReadFile(d + "/cmdline")
			found = append(found, fmt.Sprintf("%s %q", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return found
}

var runIDRE = regexp.MustCompile(`\(run ([0-9a-f]+)\)`)

// assertNoPluginLeft checks that nothing of a run's plugins is alive: no
// process matching, and the run's cgroup gone.
func assertNoPluginLeft(t *testing.T, r result, left func() []string) {
	t.Helper()
	if procs := left(); len(procs) > 0 {
		t.Errorf("plugin processes left after the run: %v", procs)
	}
	if m := runIDRE.FindStringSubmatch(r.stderr); m != nil {
		if cg := "/sys/fs/cgroup/unified/reinstall/" + m[1]; exists(cg) {
			t.Errorf("the run's cgroup %s is left", cg)
		}
	}
}
