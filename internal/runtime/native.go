//go:build linux

package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// Native is the built-in runtime: Linux namespaces, a monitor process per
// container, state files in its run directory.
type Native struct {
	runDir  string
	selfExe string
}

// NewNative returns the native runtime keeping its state in runDir
// ("<root>/run/reinstall/ct", created 0700 on first start; made absolute,
// since monitors run in "/"). selfExe is the binary serving the hidden entry
// points; "" means "/proc/self/exe".
func NewNative(runDir, selfExe string) *Native {
	if abs, err := filepath.Abs(runDir); err == nil {
		runDir = abs
	}
	if selfExe == "" {
		selfExe = "/proc/self/exe"
	}
	return &Native{runDir: runDir, selfExe: selfExe}
}

// monitorEnv is the whole environment of a monitor: it lives long, so it
// carries nothing of the caller's.
var monitorEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}

// Start writes the hostname into the private area, launches the monitor
// (which starts the init) and returns once the init runs or has failed.
func (n *Native) Start(ctx context.Context, s Spec) error {
	s.Private, s.Root, s.Init = cleanAbs(s.Private), cleanAbs(s.Root), cleanAbs(s.Init)
	if err := s.check(); err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if err := os.MkdirAll(n.runDir, 0o700); err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	lock, ok, err := tryLock(n.runDir, s.CTID)
	if err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if !ok {
		return fmt.Errorf("start %d: %w", s.CTID, ErrRunning)
	}
	defer lock.release() // the monitor holds its own reference to the lock
	// No monitor holds the lock, so any state file is a leftover.
	if err := os.Remove(statePath(n.runDir, s.CTID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if s.Hostname != "" {
		if err := writeHostnameFile(s.Private, s.Hostname); err != nil {
			return fmt.Errorf("start %d: %w", s.CTID, err)
		}
	}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if err := n.launchMonitor(ctx, s, lock); err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	return nil
}

// launchMonitor runs `selfExe __ctmon` in its own session with the lock and
// a readiness pipe, and waits for "ok" or the monitor's error message.
func (n *Native) launchMonitor(ctx context.Context, s Spec, lock *ctLock) error {
	spec, err := json.Marshal(s)
	if err != nil {
		return err
	}
	log, err := vz.OpenStateFile(logPath(n.runDir, s.CTID), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	cmd := exec.Command(n.selfExe, "__ctmon", n.runDir, string(spec))
	cmd.Env = monitorEnv
	cmd.Dir = "/"                               // a long-lived cwd elsewhere could keep a filesystem busy
	cmd.Stdout, cmd.Stderr = log, log           // stdin: /dev/null
	cmd.ExtraFiles = []*os.File{readyW, lock.f} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	msg := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(readyR, 64<<10))
		msg <- string(b)
	}()
	select {
	case m := <-msg:
		if m == readyOK {
			// Reap the monitor whenever it ends, as long as this process lives.
			go cmd.Wait()
			return nil
		}
		cmd.Wait()
		if m == "" {
			m = "monitor exited without reporting"
		}
		return fmt.Errorf("%s (log: %s)", strings.TrimSpace(m), logPath(n.runDir, s.CTID))
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM) // the monitor kills the init, cleans up and exits
		cmd.Wait()
		return ctx.Err()
	}
}

// Status reports running iff the recorded init is alive.
func (n *Native) Status(ctx context.Context, ctid int) (State, error) {
	s, err := n.liveState(ctid)
	if err != nil {
		return "", fmt.Errorf("status %d: %w", ctid, err)
	}
	if s == nil {
		return Stopped, nil
	}
	return Running, nil
}

// List returns the running containers of the state directory, by CTID.
func (n *Native) List(ctx context.Context) ([]Info, error) {
	entries, err := os.ReadDir(n.runDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var infos []Info
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		ctid, err := strconv.Atoi(id)
		if !ok || err != nil || ctid <= 0 {
			continue
		}
		s, err := n.liveState(ctid)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		if s != nil {
			infos = append(infos, s.info())
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].CTID < infos[j].CTID })
	return infos, nil
}

// liveState returns the state of a running container, or nil if it is
// stopped; a stale state file is removed on the way.
func (n *Native) liveState(ctid int) (*ctState, error) {
	s, err := readState(n.runDir, ctid)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil && s.alive() {
		return s, nil
	}
	if rerr := removeStale(n.runDir, ctid); rerr != nil {
		return nil, rerr
	}
	if _, serr := os.Stat(statePath(n.runDir, ctid)); err != nil && serr == nil {
		return nil, err // unreadable, and a monitor still holds it
	}
	return nil, nil
}

// check validates a Spec before anything is touched.
func (s Spec) check() error {
	if s.CTID <= 0 {
		return fmt.Errorf("invalid CTID %d", s.CTID)
	}
	for _, p := range []struct{ what, path string }{{"private", s.Private}, {"root", s.Root}, {"init", s.Init}} {
		if !filepath.IsAbs(p.path) {
			return fmt.Errorf("%s %q: not an absolute path", p.what, p.path)
		}
	}
	if fi, err := os.Lstat(s.Private); err != nil {
		return fmt.Errorf("private area: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("private area %s: not a directory", s.Private)
	}
	if s.Hostname != "" {
		return CheckHostname(s.Hostname)
	}
	return nil
}

// cleanAbs cleans an absolute path and leaves anything else for check.
func cleanAbs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return p
}
