//go:build linux

package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// killWait bounds the waits that should be instant: the init's death after
// SIGKILL, and the monitor's exit after the init's.
const killWait = 10 * time.Second

// Stop sends SIGTERM to the init, SIGKILL after grace, and returns once the
// monitor has reaped it and exited: no process of the container is left (its
// pid namespace died with the init) and no mount (they were only in its
// mount namespace).
func (n *Native) Stop(ctx context.Context, ctid int, grace time.Duration) error {
	s, err := readState(n.runDir, ctid)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		if err := stopInit(ctx, s, grace); err != nil {
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
func stopInit(ctx context.Context, s *ctState, grace time.Duration) error {
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
	for _, step := range []struct {
		sig  unix.Signal
		wait time.Duration
	}{{unix.SIGTERM, grace}, {unix.SIGKILL, killWait}} {
		if err := unix.PidfdSendSignal(pidfd, step.sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal init %d: %w", s.InitPID, err)
		}
		exited, err := waitPidfd(ctx, pidfd, step.wait)
		if err != nil || exited {
			return err
		}
	}
	return fmt.Errorf("init %d still runs %s after SIGKILL", s.InitPID, killWait)
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
