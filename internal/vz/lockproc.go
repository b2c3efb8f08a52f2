//go:build linux

package vz

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLockFileSize bounds what is read of a lock file: "<pid>\n<status>\n".
const maxLockFileSize = 4096

// readLockFile reads "<pid>\n<status>\n". A file without a valid pid gives
// pid 0 (never alive), so garbage left by a crash counts as stale.
func readLockFile(f *os.File) (pid int, status string, err error) {
	data, err := io.ReadAll(io.LimitReader(f, maxLockFileSize))
	if err != nil {
		return 0, "", fmt.Errorf("read lock: %w", err)
	}
	first, rest, _ := strings.Cut(string(data), "\n")
	status, _, _ = strings.Cut(rest, "\n")
	if n, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && n > 0 {
		pid = n
	}
	return pid, status, nil
}

// pidAlive reports whether pid names a running process, i.e. one that
// exists and is not a zombie; why explains a "no" for the stale-lock log line.
func pidAlive(pid int) (alive bool, why string) {
	if pid <= 0 {
		return false, "it holds no valid pid"
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return false, fmt.Sprintf("pid %d is not running", pid)
	}
	if err != nil {
		// No usable /proc: fall back to kill(pid, 0); EPERM still means alive.
		if errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
			return false, fmt.Sprintf("pid %d is not running", pid)
		}
		return true, ""
	}
	if state := procState(string(data)); state == 'Z' || state == 'X' {
		return false, fmt.Sprintf("pid %d is a zombie", pid)
	}
	return true, ""
}

// procState extracts the state letter from /proc/<pid>/stat:
// "<pid> (<comm>) <state> ...". comm may hold spaces and ')', hence LastIndex.
func procState(stat string) byte {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}
