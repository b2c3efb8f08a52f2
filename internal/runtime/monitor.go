//go:build linux

package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	readyOK      = "ok"     // monitor → Start: the init runs
	initExecMark = "exec\n" // __ctinit → monitor: setup done, exec'ing the init
)

// MonitorMain is the hidden entry point "__ctmon <runDir> <spec JSON>",
// started by Start with fd 3 = readiness pipe and fd 4 = the container lock,
// stdout/stderr = <runDir>/<CTID>.log. It starts the init, records it in the
// state file, reaps it, removes the state file and exits; the lock is held
// all along.
func MonitorMain(args []string) int {
	// The init's parent-death signal fires when this thread exits: never
	// let the goroutine that starts (and waits for) the init change thread.
	goruntime.LockOSThread()
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)
	ready := os.NewFile(3, "ready")
	lock := os.NewFile(4, "lock")
	defer goruntime.KeepAlive(lock) // a collected *os.File would close the fd and drop the lock

	if len(args) != 2 {
		fmt.Fprintf(ready, "monitor: usage: __ctmon RUNDIR SPEC")
		return 2
	}
	runDir := args[0]
	var s Spec
	if err := json.Unmarshal([]byte(args[1]), &s); err != nil {
		fmt.Fprintf(ready, "monitor: spec: %v", err)
		return 2
	}
	// Killing the monitor is a hard stop: take the init down and clean up
	// rather than die and leave a stale state file (Stop is the gentle way).
	// Signals that arrive while the init starts wait in the channel.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)

	logf("monitor %d: starting container %d, init %s", os.Getpid(), s.CTID, s.Init)
	cmd, err := startInit(runDir, s)
	if err != nil {
		logf("monitor: %v", err)
		fmt.Fprint(ready, err.Error())
		return 1
	}
	logf("monitor: init runs, host pid %d", cmd.Process.Pid)
	io.WriteString(ready, readyOK)
	ready.Close()

	go func() {
		for sig := range sigs {
			logf("monitor: got %v, killing init", sig)
			cmd.Process.Signal(unix.SIGKILL)
		}
	}()
	cmd.Wait() // returns once the whole pid namespace is gone
	logf("monitor: init exited: %v", cmd.ProcessState)
	if err := os.Remove(statePath(runDir, s.CTID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		logf("monitor: %v", err)
		return 1
	}
	return 0
}

// startInit runs `/proc/self/exe __ctinit <spec>` in new mount, pid, uts,
// ipc and net namespaces, waits until it has exec'd the container's init
// and writes the state file.
func startInit(runDir string, s Spec) (*exec.Cmd, error) {
	spec, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer syncR.Close()
	cmd := exec.Command("/proc/self/exe", "__ctinit", string(spec))
	cmd.Env = monitorEnv
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // the console log
	cmd.ExtraFiles = []*os.File{syncW}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET,
		Pdeathsig:  unix.SIGKILL,
		Setsid:     true,
	}
	err = cmd.Start()
	syncW.Close()
	if err != nil {
		return nil, fmt.Errorf("start init: %w", err)
	}
	fail := func(err error) (*exec.Cmd, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}

	// EOF right after the mark: the sync pipe is close-on-exec, so the
	// init's exec succeeded. Anything else: setup failed.
	b, _ := io.ReadAll(io.LimitReader(syncR, 64<<10))
	if string(b) != initExecMark {
		msg := strings.TrimSpace(strings.TrimPrefix(string(b), initExecMark))
		if msg == "" {
			msg = "init setup died before exec"
		}
		return fail(errors.New(msg))
	}
	pid := cmd.Process.Pid
	start, zombie, err := procStart(pid)
	if err != nil || zombie {
		return fail(fmt.Errorf("init %s exited at once", s.Init))
	}
	st := &ctState{
		CTID: s.CTID, InitPID: pid, InitStartTime: start, MonitorPID: os.Getpid(),
		Started: time.Now(), Private: s.Private, Root: s.Root,
	}
	if err := writeState(runDir, st); err != nil {
		return fail(fmt.Errorf("state file: %w", err))
	}
	return cmd, nil
}

// logf writes a timestamped monitor line into the console log.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "%s reinstall: %s\n", time.Now().Format(time.RFC3339), fmt.Sprintf(format, args...))
}
