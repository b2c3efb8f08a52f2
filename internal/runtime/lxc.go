//go:build linux

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// LXCNames maps the numbers that stand for LXC containers inside the
// process to their names and back (vz.Host under UseLXC).
type LXCNames interface {
	LXCName(ctid int) (string, bool)
	LXCID(name string) int
}

// LXC is the runtime driving Debian's LXC tools (lxc-start, lxc-stop,
// lxc-info, lxc-attach, lxc-ls) for the containers of one lxcpath. LXC
// reads the container's config itself, so Start ignores the Spec's paths.
type LXC struct {
	lxcpath string
	bindir  string // where lxc-start and its siblings are
	names   LXCNames
	runner  *Tool // runs the tools: own process group, clean environment

	mu    sync.Mutex
	locks map[int]*lxcLock // LXC's own locks held by LockContainer
}

// NewLXC returns the runtime for the containers of lxcpath, with the LXC
// tools found in bindir.
func NewLXC(lxcpath, bindir string, names LXCNames) *LXC {
	return &LXC{lxcpath: lxcpath, bindir: bindir, names: names, runner: &Tool{name: "lxc"}, locks: map[int]*lxcLock{}}
}

// Start runs lxc-start -d and checks that the container runs.
func (l *LXC) Start(ctx context.Context, s Spec) error {
	st, err := l.Status(ctx, s.CTID)
	if err != nil {
		return fmt.Errorf("start %s: %w", l.label(s.CTID), err)
	}
	if st == Running {
		return fmt.Errorf("start %s: %w", l.label(s.CTID), ErrRunning)
	}
	if _, err := l.tool(ctx, s.CTID, "lxc-start", "-d"); err != nil {
		return fmt.Errorf("start %s: %w", l.label(s.CTID), err)
	}
	if st, err = l.Status(ctx, s.CTID); err != nil {
		return fmt.Errorf("start %s: %w", l.label(s.CTID), err)
	}
	if st != Running {
		return fmt.Errorf("start %s: lxc-start succeeded, but the container is %s", l.label(s.CTID), st)
	}
	return nil
}

// Stop asks the container's init to halt (lxc-stop, which sends
// lxc.signal.halt) and waits up to grace; LXC kills it past that, and a
// container still running then gets lxc-stop --kill. A stopped container
// is not an error.
func (l *LXC) Stop(ctx context.Context, ctid int, grace time.Duration) error {
	st, err := l.Status(ctx, ctid)
	if err != nil {
		return fmt.Errorf("stop %s: %w", l.label(ctid), err)
	}
	if st == Stopped {
		return nil
	}
	if grace > 0 {
		secs := strconv.Itoa(int(math.Ceil(grace.Seconds())))
		if _, err := l.tool(ctx, ctid, "lxc-stop", "--timeout", secs); ctx.Err() != nil {
			return fmt.Errorf("stop %s: %w", l.label(ctid), err)
		}
		if st, err := l.Status(ctx, ctid); err == nil && st == Stopped {
			return nil
		}
	}
	if _, err := l.tool(ctx, ctid, "lxc-stop", "--kill"); err != nil {
		if st, serr := l.Status(ctx, ctid); serr != nil || st != Stopped {
			return fmt.Errorf("stop %s: %w", l.label(ctid), err)
		}
	}
	if st, err = l.Status(ctx, ctid); err != nil {
		return fmt.Errorf("stop %s: %w", l.label(ctid), err)
	}
	if st != Stopped {
		return fmt.Errorf("stop %s: lxc-stop --kill succeeded, but the container is %s", l.label(ctid), st)
	}
	return nil
}

// Status reads lxc-info's state: RUNNING or STOPPED; any other (FROZEN,
// STARTING, STOPPING, ABORTING) is an error, as nothing may be swapped
// under a container in transition.
func (l *LXC) Status(ctx context.Context, ctid int) (State, error) {
	out, err := l.tool(ctx, ctid, "lxc-info", "--state", "--no-humanize")
	if err != nil {
		return "", err
	}
	switch s := strings.TrimSpace(out); s {
	case "RUNNING":
		return Running, nil
	case "STOPPED":
		return Stopped, nil
	case "FROZEN":
		return "", fmt.Errorf("LXC container %s is frozen: unfreeze it first (lxc-unfreeze)", l.label(ctid))
	default:
		return "", fmt.Errorf("LXC container %s is %s, neither running nor stopped", l.label(ctid), s)
	}
}

// Exec runs req through lxc-attach --clear-env, as
// "env -i -- NAME=value... ARGV...": LXC's attach adds PATH and
// container=lxc to a cleared environment, env -i gives the command exactly
// req.Env. The exit code is the command's (128+signal if killed).
func (l *LXC) Exec(ctx context.Context, ctid int, req ExecRequest) (int, error) {
	if len(req.Argv) == 0 {
		return -1, fmt.Errorf("exec %s: no command", l.label(ctid))
	}
	if strings.Contains(req.Argv[0], "=") {
		return -1, fmt.Errorf("exec %s: command %q contains '=' (env would take it for a variable)", l.label(ctid), req.Argv[0])
	}
	for _, kv := range req.Env {
		if name, _, ok := strings.Cut(kv, "="); !ok || !envNameRE.MatchString(name) {
			return -1, fmt.Errorf("exec %s: invalid environment entry %q", l.label(ctid), kv)
		}
	}
	st, err := l.Status(ctx, ctid)
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", l.label(ctid), err)
	}
	if st != Running {
		return -1, fmt.Errorf("exec %s: %w", l.label(ctid), ErrNotRunning)
	}
	argv := append([]string{"--clear-env", "--", "env", "-i", "--"}, req.Env...)
	argv = append(argv, req.Argv...)
	name, err := l.name(ctid)
	if err != nil {
		return -1, err
	}
	var code int
	l.yieldLock(ctid, func() {
		code, _, err = l.runner.run(ctx, l.bin("lxc-attach"), append([]string{"-P", l.lxcpath, "-n", name}, argv...), req.Stdin, req.Stdout, req.Stderr)
	})
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", l.label(ctid), err)
	}
	return code, nil
}

// ListeningPorts reads the TCP tables of the network namespace of the
// container's init (lxc-info --pid) on the host.
func (l *LXC) ListeningPorts(ctx context.Context, ctid int) ([]int, error) {
	out, err := l.tool(ctx, ctid, "lxc-info", "--pid", "--no-humanize")
	if err != nil {
		return nil, fmt.Errorf("listening ports of %s: %w", l.label(ctid), err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return nil, fmt.Errorf("listening ports of %s: %w", l.label(ctid), ErrNotRunning)
	}
	ports, err := ListeningPortsOfPID(pid)
	if err != nil {
		return nil, fmt.Errorf("listening ports of %s: %w", l.label(ctid), err)
	}
	return ports, nil
}

// List returns the running containers of the lxcpath (lxc-ls --running).
func (l *LXC) List(ctx context.Context) ([]Info, error) {
	var stdout bytes.Buffer
	argv := []string{"-P", l.lxcpath, "--running", "-1"}
	code, tail, err := l.runner.run(ctx, l.bin("lxc-ls"), argv, nil, &stdout, nil)
	if err == nil && code != 0 {
		err = toolFailed("lxc-ls", argv, code, tail)
	}
	if err != nil {
		return nil, err
	}
	var infos []Info
	for _, name := range strings.Fields(stdout.String()) {
		infos = append(infos, Info{CTID: l.names.LXCID(name)})
	}
	return infos, nil
}

// tool runs an LXC tool on the container (-P lxcpath -n name, then argv)
// with LXC's lock yielded to it, and returns its stdout; a non-zero exit
// is an error.
func (l *LXC) tool(ctx context.Context, ctid int, program string, argv ...string) (string, error) {
	name, err := l.name(ctid)
	if err != nil {
		return "", err
	}
	argv = append([]string{"-P", l.lxcpath, "-n", name}, argv...)
	var (
		stdout bytes.Buffer
		code   int
		tail   string
	)
	l.yieldLock(ctid, func() {
		code, tail, err = l.runner.run(ctx, l.bin(program), argv, nil, &stdout, nil)
	})
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", toolFailed(program, argv, code, tail)
	}
	return stdout.String(), nil
}

func (l *LXC) bin(program string) string { return filepath.Join(l.bindir, program) }

func (l *LXC) name(ctid int) (string, error) {
	name, ok := l.names.LXCName(ctid)
	if !ok {
		return "", fmt.Errorf("container %d is no LXC container of %s", ctid, l.lxcpath)
	}
	return name, nil
}

// label names the container in messages: its LXC name.
func (l *LXC) label(ctid int) string {
	if name, ok := l.names.LXCName(ctid); ok {
		return name
	}
	return strconv.Itoa(ctid)
}

// LockContainer takes LXC's own lock of the container, the one every LXC
// tool takes while it reads or changes the container
// (/run/lxc/lock/<lxcpath>/.<name>, an open-file-description lock), and
// holds it until release; the runtime's own LXC tool runs yield it, since
// each would wait for it. It waits for an LXC command holding it to end.
func (l *LXC) LockContainer(ctx context.Context, ctid int) (release func(), err error) {
	name, err := l.name(ctid)
	if err != nil {
		return nil, err
	}
	lk, err := openLXCLock(l.lxcpath, name)
	if err != nil {
		return nil, err
	}
	if err := lk.lock(ctx); err != nil {
		lk.f.Close()
		return nil, fmt.Errorf("LXC lock of %s: %w", name, err)
	}
	l.mu.Lock()
	l.locks[ctid] = lk
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.locks, ctid)
		l.mu.Unlock()
		lk.f.Close() // closing the description drops the lock
	}, nil
}

// yieldLock runs fn with LXC's lock of ctid released, if it is held.
func (l *LXC) yieldLock(ctid int, fn func()) {
	l.mu.Lock()
	lk := l.locks[ctid]
	l.mu.Unlock()
	if lk == nil {
		fn()
		return
	}
	lk.yield(fn)
}

// lxcLock is LXC's lock file of a container, held through an OFD lock.
type lxcLock struct {
	f      *os.File
	mu     sync.Mutex
	yields int // runs in progress that yielded it
}

// lxcLockPath is where LXC (run as root) keeps a container's lock.
func lxcLockPath(lxcpath, name string) string {
	return filepath.Join("/run/lxc/lock", lxcpath, "."+name)
}

func openLXCLock(lxcpath, name string) (*lxcLock, error) {
	path := lxcLockPath(lxcpath, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("LXC lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("LXC lock: %w", err)
	}
	return &lxcLock{f: f}, nil
}

// lock takes the lock, retrying while an LXC command holds it.
func (k *lxcLock) lock(ctx context.Context) error {
	for {
		err := k.fcntl(unix.F_WRLCK, unix.F_OFD_SETLK)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// yield releases the lock for fn and takes it back after it (waiting for
// an LXC command that took it meanwhile).
func (k *lxcLock) yield(fn func()) {
	k.mu.Lock()
	if k.yields == 0 {
		_ = k.fcntl(unix.F_UNLCK, unix.F_OFD_SETLK)
	}
	k.yields++
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.yields--; k.yields == 0 {
			_ = k.fcntl(unix.F_WRLCK, unix.F_OFD_SETLKW)
		}
	}()
	fn()
}

func (k *lxcLock) fcntl(typ int16, cmd int) error {
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart}
	return unix.FcntlFlock(k.f.Fd(), cmd, &lk)
}

var (
	_ Runtime = (*LXC)(nil)
	_ Locker  = (*LXC)(nil)
)
