//go:build linux

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NsenterPath is util-linux nsenter, which enters the container for Exec (a
// multithreaded Go process cannot setns into a mount namespace).
var NsenterPath = "/usr/bin/nsenter"

// execWaitDelay bounds how long Exec keeps copying output after the command
// has exited, in case something it started in the background holds the pipes.
const execWaitDelay = 2 * time.Second

const enterNotRunning = "not running" // __ctenter → Exec: the init is gone

// Exec runs req.Argv inside the container through `selfExe __ctenter` and
// nsenter, with exactly req.Env, and returns its exit code.
func (n *Native) Exec(ctx context.Context, ctid int, req ExecRequest) (int, error) {
	if len(req.Argv) == 0 {
		return -1, fmt.Errorf("exec %d: empty argv", ctid)
	}
	s, err := n.liveState(ctid)
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	if s == nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, ErrNotRunning)
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	defer syncR.Close()
	args := append([]string{"__ctenter", strconv.Itoa(s.InitPID), strconv.FormatUint(s.InitStartTime, 10), "--"}, req.Argv...)
	cmd := exec.CommandContext(ctx, n.selfExe, args...)
	cmd.Env = append([]string{}, req.Env...) // non-nil: nil would mean ours
	cmd.Stdin, cmd.Stdout, cmd.Stderr = req.Stdin, req.Stdout, req.Stderr
	cmd.ExtraFiles = []*os.File{syncW}
	cmd.WaitDelay = execWaitDelay
	// Own process group, so a cancel also kills what nsenter forked into the
	// container; not when stdin is a terminal, where a background group
	// would be stopped on its first read.
	ownGroup := !isTerminal(req.Stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: ownGroup}
	cmd.Cancel = func() error {
		if ownGroup {
			return unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		}
		return cmd.Process.Kill()
	}
	err = cmd.Start()
	syncW.Close()
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(syncR, 64<<10)) // EOF: nsenter was exec'd
	werr := cmd.Wait()
	if len(msg) > 0 {
		if string(msg) == enterNotRunning {
			return -1, fmt.Errorf("exec %d: %w", ctid, ErrNotRunning)
		}
		return -1, fmt.Errorf("exec %d: %s", ctid, msg)
	}
	if cmd.ProcessState == nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, werr)
	}
	code := exitCode(cmd.ProcessState)
	if err := ctx.Err(); err != nil {
		if ownGroup {
			// The command nsenter forked into the container got the same
			// SIGKILL; it is gone once Exec returns.
			waitGroupGone(cmd.Process.Pid, execWaitDelay)
		}
		return code, fmt.Errorf("exec %d: %w", ctid, err)
	}
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) && !errors.Is(werr, exec.ErrWaitDelay) {
		return code, fmt.Errorf("exec %d: %w", ctid, werr) // e.g. copying output failed
	}
	return code, nil
}

// exitCode is the shell's view of a wait status: 128+signal if killed.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// EnterMain is the hidden entry point "__ctenter <init pid> <init start
// time> -- argv...", with fd 3 = the sync pipe. It checks that the init is
// still the recorded process, drops the container's bounding-set caps and
// execs nsenter into all of the init's namespaces and root; nsenter forks
// the command (pid namespace) and passes its exit status on.
func EnterMain(args []string) int {
	goruntime.LockOSThread() // the bounding set is per thread: drop it on the one that execs
	unix.CloseOnExec(3)
	sync := os.NewFile(3, "sync")
	fail := func(msg string) int {
		io.WriteString(sync, msg)
		return 125
	}
	if len(args) < 4 || args[2] != "--" {
		return fail("enter: usage: __ctenter PID STARTTIME -- ARGV...")
	}
	pid, err1 := strconv.Atoi(args[0])
	start, err2 := strconv.ParseUint(args[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fail("enter: bad pid or start time")
	}
	if !(&ctState{InitPID: pid, InitStartTime: start}).alive() {
		return fail(enterNotRunning)
	}
	if err := dropBoundingCaps(); err != nil {
		return fail("enter: " + err.Error())
	}
	// --wdns=/ rather than -w: the command starts in the container's "/",
	// wherever the init's cwd may be.
	argv := append([]string{"nsenter", "-t", args[0], "-m", "-u", "-i", "-p", "-n", "-r", "--wdns=/", "--"}, args[3:]...)
	err := unix.Exec(NsenterPath, argv, os.Environ())
	return fail(fmt.Sprintf("enter: exec %s: %v", NsenterPath, err))
}

// waitGroupGone waits, at most for limit, until no live process (zombies
// aside: the container's init reaps them) is left in process group pgid.
func waitGroupGone(pgid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// groupAlive tells whether a process of group pgid runs (is not a zombie).
func groupAlive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}
