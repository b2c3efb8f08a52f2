//go:build linux

package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// initKind is what the container's init is, as far as stopping it goes.
type initKind int

const (
	initOther   initKind = iota // an init reinstall does not know: SIGTERM, the container-init convention
	initSystemd                 // systemd: SIGRTMIN+3 is its "halt"
	initBusybox                 // BusyBox init: SIGUSR2 is its "poweroff"
	initClassic                 // another program named init (sysvinit, openrc-init): the container's own halt
)

func (k initKind) String() string {
	return [...]string{"unknown init", "systemd", "busybox init", "init"}[k]
}

// sigRTMin3 is glibc's SIGRTMIN+3 (the kernel's 32 plus the two glibc keeps).
const sigRTMin3 = unix.Signal(37)

// haltEnv is the whole environment of the container's halt command.
var haltEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=linux"}

// detectInit tells the kind of the running init by its process name, the
// name it was started by (a script named init runs as "/bin/sh /sbin/init")
// and, for BusyBox, its binary (read through /proc/<pid>/exe).
func detectInit(pid int) initKind {
	proc := "/proc/" + strconv.Itoa(pid)
	comm, _ := os.ReadFile(proc + "/comm")
	if strings.TrimSpace(string(comm)) == "systemd" {
		return initSystemd
	}
	cmdline, _ := os.ReadFile(proc + "/cmdline")
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	switch filepath.Base(argv0) {
	case "init", "linuxrc":
		if isBusybox(pid) {
			return initBusybox
		}
		return initClassic
	}
	return initOther
}

// isBusybox looks for BusyBox's version banner in the first 16 MiB of the
// process's binary.
func isBusybox(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	mark := []byte("BusyBox v")
	r := bufio.NewReaderSize(io.LimitReader(f, 16<<20), 1<<20)
	var tail []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		chunk := append(tail, buf[:n]...)
		if bytes.Contains(chunk, mark) {
			return true
		}
		if len(chunk) >= len(mark) {
			tail = append([]byte(nil), chunk[len(chunk)-len(mark)+1:]...)
		}
		if err != nil {
			return false
		}
	}
}

// askInit asks the init to shut the container down the way it expects and
// returns what it did, for the log. The container's halt (for a classic
// init) runs in the background until ctx ends; haltFailed then receives why
// it could not run or failed, and the caller falls back to SIGTERM.
func (n *Native) askInit(ctx context.Context, s *ctState, pidfd int, kind initKind) (what string, haltFailed <-chan error, err error) {
	switch kind {
	case initSystemd:
		return "SIGRTMIN+3 to systemd", nil, signalInit(s, pidfd, sigRTMin3)
	case initBusybox:
		return "SIGUSR2 to busybox init", nil, signalInit(s, pidfd, unix.SIGUSR2)
	case initClassic:
		failed := make(chan error, 1)
		go func() {
			var out bytes.Buffer
			code, err := n.Exec(ctx, s.CTID, ExecRequest{Argv: []string{"halt"}, Env: haltEnv, Stdout: &out, Stderr: &out})
			if err == nil && code != 0 {
				err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(out.String()))
			}
			if err != nil {
				failed <- err
			}
		}()
		return "the container's halt", failed, nil
	}
	return "SIGTERM to " + kind.String(), nil, signalInit(s, pidfd, unix.SIGTERM)
}

// signalInit signals the init through its pidfd; one that is gone is no error.
func signalInit(s *ctState, pidfd int, sig unix.Signal) error {
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal init %d: %w", s.InitPID, err)
	}
	return nil
}

// StopNote receives what a stop did, one line at a time, at "info" or
// "warn" (the grace ran out and the container was killed).
type StopNote func(level, msg string)

type stopNoteKey struct{}

// WithStopNote returns a context whose stops report to note, besides the
// container's console log.
func WithStopNote(ctx context.Context, note StopNote) context.Context {
	return context.WithValue(ctx, stopNoteKey{}, note)
}

// noteStop writes a line into the console log and to the context's StopNote.
func (n *Native) noteStop(ctx context.Context, ctid int, level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f, err := vz.OpenStateFile(logPath(n.runDir, ctid), os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fmt.Fprintf(f, "%s reinstall: %s\n", time.Now().Format(time.RFC3339), msg)
		f.Close()
	}
	if note, ok := ctx.Value(stopNoteKey{}).(StopNote); ok && note != nil {
		note(level, msg)
	}
}
