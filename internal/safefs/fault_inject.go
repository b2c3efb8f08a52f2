//go:build faultinject

package safefs

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// faultPoint SIGKILLs the host (this plugin's parent) or this plugin process
// when REINSTALL_FAULT names this point, e.g. "host:untar:40" after the 40th
// entry is unpacked, or "plugin:remove:5@backup-retention" after the fifth
// unlink in the backup-retention plugin. Compiled only with the faultinject
// build tag.
func faultPoint(what string, n int64) {
	target, point, ok := strings.Cut(os.Getenv("REINSTALL_FAULT"), ":")
	if !ok {
		return
	}
	if point, plugin, scoped := strings.Cut(point, "@"); scoped {
		if len(os.Args) < 3 || os.Args[2] != plugin {
			return
		}
		ok = point == fmt.Sprintf("%s:%d", what, n)
	} else {
		ok = point == fmt.Sprintf("%s:%d", what, n)
	}
	if !ok {
		return
	}
	switch target {
	case "host":
		syscall.Kill(os.Getppid(), syscall.SIGKILL)
	case "plugin":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
