//go:build linux

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Tool is a runtime that drives a host's container manager, vzctl or
// prlctl, for containers whose private area is a directory (simfs). The
// tool reads the container's config itself, so Start ignores the Spec's
// paths, hostname and init.
type Tool struct {
	name    string // "vzctl" or "prlctl", as errors name it
	path    string // absolute path of the tool
	dialect toolDialect
}

// toolDialect builds a tool's argv (without the program) and reads its
// status output.
type toolDialect interface {
	start(ctid int) []string
	// stop asks the container to stop; kill stops it forcibly.
	stop(ctid int, kill bool) []string
	status(ctid int) []string
	// exec runs one shell command line inside the container.
	exec(ctid int, commandLine string) []string
	// list is the program and argv that print the running CTIDs, one a line.
	list() (program string, argv []string)
	parseStatus(out string) (State, error)
}

// ToolEnv is the whole environment a tool runs with: nothing of the
// caller's leaks into the container manager (or through it into a
// container).
var ToolEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "LC_ALL=C"}

// toolWaitDelay bounds the wait for a tool's output pipes once it exited
// or was killed (a daemon it forked may hold them).
const toolWaitDelay = 10 * time.Second

// Name returns "vzctl" or "prlctl".
func (t *Tool) Name() string { return t.name }

// Start starts the container with the tool and checks that it runs.
func (t *Tool) Start(ctx context.Context, s Spec) error {
	st, err := t.Status(ctx, s.CTID)
	if err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if st == Running {
		return fmt.Errorf("start %d: %w", s.CTID, ErrRunning)
	}
	if _, err := t.runChecked(ctx, t.dialect.start(s.CTID), nil); err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	st, err = t.Status(ctx, s.CTID)
	if err != nil {
		return fmt.Errorf("start %d: %w", s.CTID, err)
	}
	if st != Running {
		return fmt.Errorf("start %d: %s start succeeded, but the container is %s", s.CTID, t.name, st)
	}
	return nil
}

// Stop runs the tool's stop under a deadline of grace (the tools have no
// timeout of their own); past it, or if that stop fails, the forced stop
// (vzctl --fast, prlctl --kill) follows. A stopped container is not an error.
func (t *Tool) Stop(ctx context.Context, ctid int, grace time.Duration) error {
	st, err := t.Status(ctx, ctid)
	if err != nil {
		return fmt.Errorf("stop %d: %w", ctid, err)
	}
	if st == Stopped {
		return nil
	}
	if grace > 0 {
		graceCtx, cancel := context.WithTimeout(ctx, grace)
		_, err := t.runChecked(graceCtx, t.dialect.stop(ctid, false), nil)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("stop %d: %w", ctid, ctx.Err())
		}
		if err == nil {
			if st, err := t.Status(ctx, ctid); err == nil && st == Stopped {
				return nil
			}
		}
	}
	if _, err := t.runChecked(ctx, t.dialect.stop(ctid, true), nil); err != nil {
		return fmt.Errorf("stop %d: %w", ctid, err)
	}
	st, err = t.Status(ctx, ctid)
	if err != nil {
		return fmt.Errorf("stop %d: %w", ctid, err)
	}
	if st != Stopped {
		return fmt.Errorf("stop %d: %s stopped it forcibly, but the container is %s", ctid, t.name, st)
	}
	return nil
}

// Status asks the tool and reads its answer.
func (t *Tool) Status(ctx context.Context, ctid int) (State, error) {
	out, err := t.runChecked(ctx, t.dialect.status(ctid), nil)
	if err != nil {
		return "", err
	}
	st, err := t.dialect.parseStatus(out)
	if err != nil {
		return "", fmt.Errorf("%s: %w", shellJoin(append([]string{t.name}, t.dialect.status(ctid)...)), err)
	}
	return st, nil
}

// Exec runs req inside the container through the tool. The tools run a
// command line through a shell inside the container, so the request
// becomes one: "exec env -i -- NAME=value... ARGV...", every word
// shell-quoted, which gives the command exactly req.Env. stdin, stdout and
// stderr are the tool's; its exit code is the command's (vzctl exec2 and
// prlctl exec pass it through).
func (t *Tool) Exec(ctx context.Context, ctid int, req ExecRequest) (int, error) {
	line, err := ExecCommandLine(req.Argv, req.Env)
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	st, err := t.Status(ctx, ctid)
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	if st != Running {
		return -1, fmt.Errorf("exec %d: %w", ctid, ErrNotRunning)
	}
	argv := t.dialect.exec(ctid, line)
	code, _, err := t.run(ctx, t.path, argv, req.Stdin, req.Stdout, req.Stderr)
	if err != nil {
		return -1, fmt.Errorf("exec %d: %w", ctid, err)
	}
	return code, nil
}

// List returns the running containers as the tool lists them (only CTID
// is known).
func (t *Tool) List(ctx context.Context) ([]Info, error) {
	program, argv := t.dialect.list()
	var stdout bytes.Buffer
	code, tail, err := t.run(ctx, program, argv, nil, &stdout, nil)
	if err == nil && code != 0 {
		err = toolFailed(filepath.Base(program), argv, code, tail)
	}
	if err != nil {
		return nil, err
	}
	var infos []Info
	for _, field := range strings.Fields(stdout.String()) {
		ctid, err := strconv.Atoi(field)
		if err != nil {
			continue // a UUID-named container is none of ours
		}
		infos = append(infos, Info{CTID: ctid})
	}
	return infos, nil
}

// runChecked runs the tool, returns its stdout, and makes a non-zero exit an error.
func (t *Tool) runChecked(ctx context.Context, argv []string, stdin io.Reader) (string, error) {
	var stdout bytes.Buffer
	code, tail, err := t.run(ctx, t.path, argv, stdin, &stdout, nil)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", toolFailed(t.name, argv, code, tail)
	}
	return stdout.String(), nil
}

// run runs program with argv in its own process group, with ToolEnv and cwd
// "/", and returns its exit code and the tail of its stderr (also copied to
// stderr). Cancelling ctx kills the whole group.
func (t *Tool) run(ctx context.Context, program string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, string, error) {
	name := t.name
	if program != t.path {
		name = filepath.Base(program)
	}
	cmd := exec.CommandContext(ctx, program, argv...)
	cmd.Args[0] = name
	cmd.Env = ToolEnv
	cmd.Dir = "/"
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	tail := &tailBuffer{}
	cmd.Stderr = tail
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, stderr)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = toolWaitDelay
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, tail.String(), fmt.Errorf("%s: %w", shellJoin(cmd.Args), ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return -1, tail.String(), fmt.Errorf("%s: %v%s", shellJoin(cmd.Args), ee, tailSuffix(tail.String()))
		}
		return ee.ExitCode(), tail.String(), nil
	}
	if err != nil {
		return -1, tail.String(), fmt.Errorf("%s: %w", shellJoin(cmd.Args), err)
	}
	return 0, tail.String(), nil
}

func toolFailed(name string, argv []string, code int, tail string) error {
	return fmt.Errorf("%s failed (exit %d)%s", shellJoin(append([]string{name}, argv...)), code, tailSuffix(tail))
}

func tailSuffix(tail string) string {
	if tail == "" {
		return ""
	}
	return ": " + tail
}

// tailBuffer keeps the last bytes written to it; String gives its
// non-empty lines joined on one line.
type tailBuffer struct{ b []byte }

const tailBytes = 512

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > tailBytes {
		w.b = w.b[len(w.b)-tailBytes:]
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	var lines []string
	for _, l := range strings.Split(string(w.b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// ExecCommandLine is the shell command line a tool runs for argv with
// exactly env: "exec env -i -- NAME=value... ARGV...", every word quoted.
// The "--" ends env's options, so an argv[0] starting with "-" is run, not
// read as one; it comes before the assignments, as env (GNU and BusyBox)
// takes only the first word after its assignments for the command, "--" or
// not.
func ExecCommandLine(argv, env []string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("no command")
	}
	if strings.Contains(argv[0], "=") {
		return "", fmt.Errorf("command %q contains '=' (env would take it for a variable)", argv[0])
	}
	words := []string{"exec", "env", "-i", "--"}
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !envNameRE.MatchString(name) {
			return "", fmt.Errorf("invalid environment entry %q", kv)
		}
		words = append(words, kv)
	}
	words = append(words, argv...)
	return shellJoin(words), nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// shellJoin quotes each word for a POSIX shell and joins them with spaces.
func shellJoin(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " ")
}

var shellSafeRE = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote leaves a word of safe characters bare and single-quotes any other.
func shellQuote(w string) string {
	if shellSafeRE.MatchString(w) {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

var _ Runtime = (*Tool)(nil)
