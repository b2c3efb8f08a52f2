//go:build linux

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// killWait bounds the waits that should be instant: the init's death after
// SIGKILL, and the monitor's exit after the init's.
const killWait = 10 * time.Second

// Stop asks the init to shut the container down the way it expects
// (systemd: SIGRTMIN+3; BusyBox init: SIGUSR2; another init named init: the
// container's own halt, as vzctl does; anything else: SIGTERM), SIGKILLs it
// once grace has passed, and returns once the monitor has reaped it and
// exited: no process of the container is left (its pid namespace died with
// the init) and no mount (they were only in its mount namespace).
func (n *Native) Stop(ctx context.Context, ctid int, grace time.Duration) error {
	s, err := readState(n.runDir, ctid)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		if err := n.stopInit(ctx, s, grace); err != nil {
			return fmt.Errorf("stop %d: %w", ctid, err)
		}
	}
	if err := n.waitMonitorExit(ctx, ctid); err != nil {
		return fmt.Errorf("stop %d: %w", ctid, err)
	}
	return nil
}

// stopInit signals the recorded init through a pidfd, so a reused pid is
// never signalled, and waits for its exit.
func (n *Native) stopInit(ctx context.Context, s *ctState, grace time.Duration) error {
	pidfd, err := unix.PidfdOpen(s.InitPID, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", s.InitPID, err)
	}
	defer unix.Close(pidfd)
	// Checked after opening: if the start time still matches, the pidfd
	// refers to the recorded init, alive or dead since.
	if !s.alive() {
		return nil
	}
	haltCtx, cancelHalt := context.WithCancel(ctx)
	defer cancelHalt()
	kind := detectInit(s.InitPID)
	pidNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", s.InitPID))
	what, haltFailed, err := n.askInit(haltCtx, s, pidfd, kind)
	if err != nil {
		return err
	}
	n.noteStop(ctx, s.CTID, "info", "stopping container %d: %s, grace %s", s.CTID, what, grace)
	asked := time.Now()
	deadline := asked.Add(grace)
	for {
		exited, err := waitPidfd(ctx, pidfd, min(time.Until(deadline), 100*time.Millisecond))
		if err != nil {
			return err
		}
		if exited {
			n.noteStop(ctx, s.CTID, "info", "container %d stopped cleanly in %s", s.CTID, time.Since(asked).Round(time.Millisecond))
			return nil
		}
		continueEnters(pidNS)
		if time.Now().After(deadline) {
			break
		}
		select {
		case herr := <-haltFailed:
			haltFailed = nil
			n.noteStop(ctx, s.CTID, "info", "the container's halt failed (%v): SIGTERM to init", herr)
			if err := signalInit(s, pidfd, unix.SIGTERM); err != nil {
				return err
			}
		default:
		}
	}
	n.noteStop(ctx, s.CTID, "warn", "container %d did not stop within %s: killing it (SIGKILL)", s.CTID, grace)
	if err := signalInit(s, pidfd, unix.SIGKILL); err != nil {
		return err
	}
	for end := time.Now().Add(killWait); time.Now().Before(end); {
		exited, err := waitPidfd(ctx, pidfd, 100*time.Millisecond)
		if err != nil || exited {
			return err
		}
		continueEnters(pidNS)
	}
	return fmt.Errorf("init %d still runs %s after SIGKILL", s.InitPID, killWait)
}

// continueEnters resumes the stopped host processes that entered the
// container's pid namespace (pidNS, "pid:[inode]") for an exec: nsenter
// stops itself when its child in the container stops, and systemd's
// shutdown stops every process (SIGSTOP, then SIGTERM, then SIGCONT to what
// it can see, which nsenter, in the host's namespace, is not). A stopped
// nsenter never reaps its child, and a pid namespace's init cannot finish
// dying while a zombie of it is left: the container would never stop.
func continueEnters(pidNS string) {
	if pidNS == "" {
		return
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", pid)); err != nil || ns != pidNS {
			continue
		}
		if own, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || own == pidNS {
			continue // inside the container: its init's to handle
		}
		if stoppedProcess(pid) {
			unix.Kill(pid, unix.SIGCONT)
		}
	}
}

// stoppedProcess tells whether /proc/<pid>/stat says T (stopped).
func stoppedProcess(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'T'
}

// waitPidfd waits up to d for the process to exit; it polls in short slices
// to notice ctx.
func waitPidfd(ctx context.Context, pidfd int, d time.Duration) (exited bool, err error) {
	deadline := time.Now().Add(d)
	for {
		slice := min(time.Until(deadline), 100*time.Millisecond)
		if slice < 0 {
			slice = 0
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		k, err := unix.Poll(fds, int(slice.Milliseconds()))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false, fmt.Errorf("poll pidfd: %w", err)
		}
		if k > 0 {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if slice == 0 {
			return false, nil
		}
	}
}

// waitMonitorExit waits until no monitor holds the container's lock, then
// removes a state file a crashed monitor may have left.
func (n *Native) waitMonitorExit(ctx context.Context, ctid int) error {
	deadline := time.Now().Add(killWait)
	for {
		l, ok, err := tryLock(n.runDir, ctid)
		if err != nil {
			return err
		}
		if ok {
			defer l.release()
			if err := os.Remove(statePath(n.runDir, ctid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("monitor still runs %s after the init's exit (log: %s)", killWait, logPath(n.runDir, ctid))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
