package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
	"golang.org/x/sys/unix"
)

// pipeDrainGrace is how long go-plugin may still read a killed plugin's
// stdout and stderr before the reads are cut short (a process outside the
// plugin's group may hold the pipes open forever).
const pipeDrainGrace = time.Second

// process runs one plugin binary for go-plugin (ClientConfig.RunnerFunc):
// in its own session and process group, optionally cloned straight into a
// cgroup, with only the allowlisted environment. Owning the runner lets the
// host kill the whole group, name the plugin's logger after the plugin and
// have go-plugin put every socket under the launcher's socket directory.
type process struct {
	name      string
	path      string
	args      []string
	env       []string
	cgroupDir string

	cmd            *exec.Cmd
	stdout, stderr *os.File
	// stderrTo takes the plugin's stderr: go-plugin only ever sees its end.
	stderrTo *outputStream

	mu     sync.Mutex
	pid    int
	killed bool
	exited chan struct{}
	state  *os.ProcessState
}

var _ runner.Runner = (*process)(nil)

func newProcess(name, path string, args, env []string, cgroupDir string, stderrTo *outputStream) *process {
	return &process{name: name, path: path, args: args, env: env, cgroupDir: cgroupDir, stderrTo: stderrTo, exited: make(chan struct{})}
}

// runnerFunc is the ClientConfig.RunnerFunc: go-plugin hands over a
// placeholder command carrying its own environment (cookie, protocol
// versions, TLS certificate, socket directory), which is appended to ours.
func (p *process) runnerFunc(_ hclog.Logger, placeholder *exec.Cmd, _ string) (runner.Runner, error) {
	p.cmd = &exec.Cmd{
		Path:        p.path,
		Args:        p.args,
		Env:         append(slices.Clone(p.env), placeholder.Env...),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	return p, nil
}

func (p *process) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_, _ = outR.Close(), outW.Close()
		return err
	}
	p.cmd.Stdout, p.cmd.Stderr = outW, errW
	defer func() { _, _ = outW.Close(), errW.Close() }()
	if p.cgroupDir != "" {
		fd, err := unix.Open(p.cgroupDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			_, _ = outR.Close(), errR.Close()
			return fmt.Errorf("open plugin cgroup %s: %w", p.cgroupDir, err)
		}
		defer unix.Close(fd)
		p.cmd.SysProcAttr.UseCgroupFD, p.cmd.SysProcAttr.CgroupFD = true, fd
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		_, _ = outR.Close(), errR.Close()
		return errors.New("the launch was cancelled")
	}
	if err := p.cmd.Start(); err != nil {
		_, _ = outR.Close(), errR.Close()
		return fmt.Errorf("start %s: %w", p.path, err)
	}
	p.pid = p.cmd.Process.Pid
	p.stdout, p.stderr = outR, errR
	return nil
}

// Wait reaps the plugin; go-plugin calls it once stdout and stderr are drained.
func (p *process) Wait(context.Context) error {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.state = p.cmd.ProcessState
	_, _ = p.stdout.Close(), p.stderr.Close()
	p.mu.Unlock()
	close(p.exited)
	return err
}

// Kill is go-plugin's forced stop: see kill.
func (p *process) Kill(context.Context) error {
	p.kill()
	return nil
}

// kill sends SIGKILL to the plugin's whole process group (the plugin leads
// it: Setsid), then bounds how long its pipes may stay open. The group id
// cannot be reused while any member lives, so this never hits a stranger.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killed = true
	if p.pid <= 0 {
		return
	}
	_ = unix.Kill(-p.pid, unix.SIGKILL)
	deadline := time.Now().Add(pipeDrainGrace)
	_ = p.stdout.SetReadDeadline(deadline)
	_ = p.stderr.SetReadDeadline(deadline)
}

// exitStatus describes how the plugin ended ("" while it runs).
func (p *process) exitStatus() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return ""
	}
	return p.state.String()
}

// waitExit reports whether the plugin ended within d.
func (p *process) waitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

func (p *process) Stdout() io.ReadCloser { return drainedPipe{p.stdout} }
func (p *process) Stderr() io.ReadCloser { return consumedPipe{drainedPipe{p.stderr}, p.stderrTo} }
func (p *process) Name() string          { return p.name }
func (p *process) Diagnose(context.Context) string {
	return "" // pluginhost rewrites go-plugin's start errors itself
}

func (p *process) ID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pid <= 0 {
		return ""
	}
	return strconv.Itoa(p.pid)
}

func (p *process) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (p *process) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// drainedPipe reads a plugin pipe; a read cut short by kill's deadline is
// the end of the output, not an error to log.
type drainedPipe struct{ f *os.File }

func (d drainedPipe) Read(b []byte) (int, error) {
	n, err := d.f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = io.EOF
	}
	return n, err
}

func (d drainedPipe) Close() error { return d.f.Close() }

// consumedPipe hands everything the plugin writes to stderr to its output
// and gives go-plugin (which would log each line itself, dropping those
// below the operator's level before any log file sees them) only the end
// of it. Read returns once the pipe is drained, so go-plugin still reaps the
// process after the last line.
type consumedPipe struct {
	pipe drainedPipe
	to   *outputStream
}

func (c consumedPipe) Read(b []byte) (int, error) {
	for {
		n, err := c.pipe.Read(b)
		if n > 0 {
			_, _ = c.to.Write(b[:n])
		}
		if err != nil {
			c.to.close()
			return 0, err
		}
	}
}

func (c consumedPipe) Close() error { return c.pipe.Close() }
