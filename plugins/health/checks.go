package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// check is one condition the new container must meet.
type check struct {
	kind   string // command, tcp or systemd (the "checks" output)
	name   string // what progress and errors call it
	run    func(ctx context.Context) outcome
	passed bool
	// reported: its first failed try has been logged.
	reported bool
	outcome  outcome // the latest attempt's
}

// outcome is one attempt of a check; detail is what it found (the last
// output of a command).
type outcome struct {
	pass   bool
	detail string
	// interrupted: wait ran out during the attempt, which so says less
	// than the previous one.
	interrupted bool
}

// buildChecks turns the configuration into checks, in the order they run.
func buildChecks(req *sdk.RunRequest, c config) ([]*check, error) {
	var checks []*check
	if len(c.Command) > 0 {
		checks = append(checks, commandCheck(req, c.Command))
	}
	if len(c.TCP) > 0 {
		checks = append(checks, tcpCheck(req, c.TCP))
	}
	if c.Systemd == SystemdAuto {
		init, isSystemd, err := systemdInit(req.Context)
		switch {
		case err != nil:
			return nil, err
		case isSystemd:
			checks = append(checks, systemdCheck(req, c.AllowDegraded))
		default:
			req.UI.Log(sdk.LevelInfo, fmt.Sprintf("the container's init (%s) is not systemd: no systemd check", init))
		}
	}
	return checks, nil
}

// env is the environment of the commands run inside the container, that of
// vps.configure.
func env(ctid int) []string {
	return []string{
		"HOME=/",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SHELL=/bin/sh",
		"VEID=" + strconv.Itoa(ctid),
	}
}

// commandCheck passes when argv exits 0 inside the container.
func commandCheck(req *sdk.RunRequest, argv []string) *check {
	return &check{kind: "command", name: "command " + strings.Join(argv, " "), run: func(ctx context.Context) outcome {
		out := &tailBuffer{max: maxOutput}
		code, err := req.Host.Exec(ctx, sdk.ExecRequest{Argv: argv, Env: env(req.Context.CTID), Stdout: out, Stderr: out})
		switch {
		case waitRanOut(ctx, err):
			// Cut short before it printed anything, it says less than the try before.
			return outcome{detail: errCheckTimedOut.Error() + out.suffix(), interrupted: out.suffix() == ""}
		case err != nil:
			return outcome{detail: err.Error()}
		case code == 0:
			return outcome{pass: true, detail: "exited 0"}
		}
		return outcome{detail: fmt.Sprintf("exit %d%s", code, out.suffix())}
	}}
}

// tcpCheck passes when every port listens in the container's network
// namespace, as the host reads it (no tool inside is needed).
func tcpCheck(req *sdk.RunRequest, want []int) *check {
	return &check{kind: "tcp", name: "tcp " + joinPorts(want), run: func(ctx context.Context) outcome {
		got, err := req.Host.ListeningPorts(ctx)
		if err != nil {
			return outcome{detail: err.Error(), interrupted: waitRanOut(ctx, err)}
		}
		listening := map[int]bool{}
		for _, p := range got {
			listening[p] = true
		}
		var missing []int
		for _, p := range want {
			if !listening[p] {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			return outcome{pass: true, detail: "listening on " + joinPorts(want)}
		}
		seen := "nothing listens"
		if len(got) > 0 {
			seen = "listening: " + joinPorts(got)
		}
		return outcome{detail: fmt.Sprintf("not listening on %s (%s)", joinPorts(missing), seen)}
	}}
}

// waitRanOut tells whether an attempt ended because wait ran out (the
// host's answer may say so before ctx does).
func waitRanOut(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// systemdInit resolves the container's init (INIT, default /sbin/init) in
// the new private area as the container would, and tells whether it is
// systemd. Reading the tree, not asking systemctl, leaves no race with a
// systemd that has not yet announced itself.
func systemdInit(rc sdk.RunContext) (init string, isSystemd bool, err error) {
	init = rc.Config["INIT"]
	if init == "" {
		init = "/sbin/init"
	}
	target, err := safefs.ResolveInRoot(rc.Private, init)
	if errors.Is(err, safefs.ErrNotFound) {
		return init, false, nil
	}
	if err != nil {
		return init, false, fmt.Errorf("find the container's init: %w", err)
	}
	shown := init
	if target != init {
		shown = init + " → " + target
	}
	return shown, filepath.Base(target) == "systemd", nil
}

// maxOutput is how much of a command's output a failure shows (its end).
const maxOutput = 2 << 10

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.cut = true
	}
	return len(p), nil
}

// suffix is ": <output>" for an error message, or "" when there was none.
func (b *tailBuffer) suffix() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := string(bytes.TrimSpace(b.buf))
	if out == "" {
		return ""
	}
	if b.cut {
		out = "…" + out
	}
	return ": " + strings.Join(strings.Split(out, "\n"), " | ")
}
