//go:build linux

package runtime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// NewVzctl returns the runtime driving vzctl at path; vzlist (shipped with
// vzctl, which has no list command) lists the running containers.
//
// Every start and stop passes --skiplock: the caller (a reinstall run, or
// `reinstall ct start|stop`) already holds $LOCKDIR/<CTID>.lck, the lock
// vzctl would otherwise wait for and refuse on.
func NewVzctl(path, vzlist string) *Tool {
	return &Tool{name: NameVzctl, path: path, dialect: vzctlDialect{vzlist: vzlist}}
}

type vzctlDialect struct{ vzlist string }

func (vzctlDialect) start(ctid int) []string {
	return []string{"--skiplock", "start", strconv.Itoa(ctid)}
}

func (vzctlDialect) stop(ctid int, kill bool) []string {
	argv := []string{"--skiplock", "stop", strconv.Itoa(ctid)}
	if kill {
		argv = append(argv, "--fast")
	}
	return argv
}

func (vzctlDialect) status(ctid int) []string { return []string{"status", strconv.Itoa(ctid)} }

// exec uses exec2, which exits with the command's exit code (exec exits 0
// or 1 whatever it was), with --quiet: without it vzctl writes its own
// notices ("Directory /proc/vz not found, assuming non-OpenVZ kernel" on an
// upstream kernel) to stdout, into the command's output. A command killed
// by a signal makes exec2 exit 3 (vzctl's own "system error").
func (vzctlDialect) exec(ctid int, commandLine string) []string {
	return []string{"--quiet", "exec2", strconv.Itoa(ctid), commandLine}
}

func (d vzctlDialect) list() (string, []string) { return d.vzlist, []string{"-H", "-o", "ctid"} }

// parseStatus reads "VEID 101 exist mounted running" (vzctl 7+; older
// versions say "CTID"): running is running, down is stopped, except a
// container left mounted while down, which no swap may touch, and one with
// a checkpoint dump ("… down suspended"), whose resume would bring back
// the old system's memory over a new one.
func (vzctlDialect) parseStatus(out string) (State, error) {
	f := strings.Fields(out)
	if len(f) < 5 || (f[0] != "VEID" && f[0] != "CTID") {
		return "", fmt.Errorf("unexpected status output %q", strings.TrimSpace(out))
	}
	if slices.Contains(f[5:], "suspended") {
		return "", suspendedError(f[1])
	}
	switch {
	case len(f) > 5:
		return "", fmt.Errorf("unexpected status output %q", strings.TrimSpace(out))
	case f[4] == "running":
		return Running, nil
	case f[4] == "down" && f[3] == "mounted":
		return "", fmt.Errorf("container %s is mounted but not running; unmount it first (vzctl umount %s)", f[1], f[1])
	case f[4] == "down":
		return Stopped, nil
	}
	return "", fmt.Errorf("unexpected status output %q", strings.TrimSpace(out))
}

// suspendedError refuses a suspended container, which is neither running
// nor plainly stopped.
func suspendedError(ctid string) error {
	return fmt.Errorf("container %s is suspended (a checkpoint dump exists): resume it or remove the dump first", ctid)
}
