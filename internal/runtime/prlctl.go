//go:build linux

package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// NewPrlctl returns the runtime driving prlctl at path. prlctl has no
// option to skip the container lock: it goes through the dispatcher.
func NewPrlctl(path string) *Tool {
	return &Tool{name: NamePrlctl, path: path, dialect: prlctlDialect{path: path}}
}

type prlctlDialect struct{ path string }

func (prlctlDialect) start(ctid int) []string { return []string{"start", strconv.Itoa(ctid)} }

func (prlctlDialect) stop(ctid int, kill bool) []string {
	argv := []string{"stop", strconv.Itoa(ctid)}
	if kill {
		argv = append(argv, "--kill")
	}
	return argv
}

func (prlctlDialect) status(ctid int) []string { return []string{"status", strconv.Itoa(ctid)} }

// exec runs the command line through bash -c inside the container and
// exits with its exit code.
func (prlctlDialect) exec(ctid int, commandLine string) []string {
	return []string{"exec", strconv.Itoa(ctid), commandLine}
}

// list prints the ENVID (the CTID) of every running container.
func (d prlctlDialect) list() (string, []string) {
	return d.path, []string{"list", "-H", "-o", "envid", "--vmtype", "ct"}
}

// parseStatus reads "CT 101 exist running" or "CT 101 exist stopped"; a
// suspended container (prlctl suspend) is refused as vzctl's is.
func (prlctlDialect) parseStatus(out string) (State, error) {
	f := strings.Fields(out)
	if len(f) < 4 || (f[0] != "CT" && f[0] != "VEID") {
		return "", fmt.Errorf("unexpected status output %q", strings.TrimSpace(out))
	}
	switch f[len(f)-1] {
	case "running":
		return Running, nil
	case "stopped":
		return Stopped, nil
	case "suspended":
		return "", suspendedError(f[1])
	}
	return "", fmt.Errorf("container %s is %s, neither running nor stopped", f[1], f[len(f)-1])
}
