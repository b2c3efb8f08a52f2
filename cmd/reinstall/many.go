package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// manyFlags are the flags of the parent of a command over several
// containers, not passed on to each container's run.
var manyFlags = map[string]bool{"parallel": true, "json": true, "quiet": true, "output": true, "result-fd": true}

// severity orders exit codes for a command over several containers: the
// most serious decides its exit code (3, then 1, 9, 32, 2).
var severity = map[int]int{engine.ExitRecover: 5, engine.ExitFailed: 4, engine.ExitLocked: 3, engine.ExitRunning: 2, engine.ExitRefused: 1, engine.ExitOK: 0}

// reinstallMany reinstalls each target in a run of its own, this binary
// started again for one container, at most parallel at once: each takes
// its own lock, rolls back on its own and leaves a log of its own, and one
// failing stops none of the others. Its events (the children run --json)
// are shown as they come, each carrying its CTID; SIGINT or SIGTERM is
// passed on to every run, and runs not yet started are not started.
func reinstallMany(ctx context.Context, g *globals, cmd *cobra.Command, targets []string, parallel int) error {
	if parallel < 1 {
		return fmt.Errorf("--parallel %d: want 1 or more", parallel)
	}
	started := time.Now()
	argv := childFlags(cmd.Flags())
	out := newManyOutput(g)
	results := make([]runResult, len(targets))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, target := range targets {
		ctid := ctidOf(g, target)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i] = notStarted(target, ctid)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = runOne(ctx, out, argv, target, ctid)
		}()
	}
	wg.Wait()
	sum := sumResults(results, time.Since(started))
	sum.RequestID = g.output.requestID
	g.output.done = &sum
	if !g.output.quiet && !g.output.json {
		for _, r := range results {
			fmt.Fprintf(g.stderr, "reinstall %s: exit %d: %s\n", r.Target, r.RC, termsafe.Printable(r.Msg))
		}
	}
	if sum.RC != 0 {
		return &exitError{code: sum.RC, err: fmt.Errorf("%s", sum.Msg)}
	}
	return nil
}

// childFlags are the flags given, as a run of one container takes them.
func childFlags(f *pflag.FlagSet) []string {
	var argv []string
	f.Visit(func(fl *pflag.Flag) {
		if manyFlags[fl.Name] {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				argv = append(argv, "--"+fl.Name+"="+v)
			}
			return
		}
		argv = append(argv, "--"+fl.Name+"="+fl.Value.String())
	})
	return argv
}

// manyOutput shows the runs' events: their JSON lines as they are with
// --json, else one line each (textEvents), nothing with --quiet.
type manyOutput struct {
	mu     sync.Mutex
	json   io.Writer
	text   engine.Sink
	stderr io.Writer
}

func newManyOutput(g *globals) *manyOutput {
	o := &manyOutput{stderr: g.stderr}
	switch {
	case g.output.json:
		o.json = g.stdout
	case !g.output.quiet:
		o.text = textEvents(g.stderr)
	}
	return o
}

func (o *manyOutput) eventLine(line []byte) {
	if o.json != nil {
		o.mu.Lock()
		o.json.Write(append(line, '\n'))
		o.mu.Unlock()
		return
	}
	if o.text == nil {
		return
	}
	var ev struct {
		engine.Event
		ExitCode int `json:"exit_code"`
	}
	if json.Unmarshal(line, &ev) == nil {
		ev.Event.ExitCode = ev.ExitCode
		o.text(ev.Event)
	}
}

// stderrLine passes a run's own stderr on, naming its container.
func (o *manyOutput) stderrLine(target string, line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rest, ok := strings.CutPrefix(line, "reinstall: ")
	if !ok {
		rest = line
	}
	fmt.Fprintf(o.stderr, "reinstall %s: %s\n", target, rest)
}

// ctidOf is the container target names (0: none), for the result of a
// run that gave none.
func ctidOf(g *globals, target string) int {
	h, err := g.host()
	if err != nil {
		return 0
	}
	ctid, _, err := h.Resolve(target)
	if err != nil {
		return 0
	}
	return ctid
}

// runOne runs the reinstall of target (container ctid) and returns its
// result.
func runOne(ctx context.Context, out *manyOutput, argv []string, target string, ctid int) runResult {
	began := time.Now()
	resultR, resultW, err := os.Pipe()
	if err != nil {
		return died(target, ctid, began, err)
	}
	defer resultR.Close()
	args := append(append(append([]string{}, argv...), "--json", "--result-fd=3", "--"), target)
	c := exec.CommandContext(ctx, "/proc/self/exe", args...)
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) } // the run rolls back; wait for it
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}                  // a terminal's Ctrl-C reaches it through us only
	c.ExtraFiles = []*os.File{resultW}
	stdout, _ := c.StdoutPipe()
	stderr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		resultW.Close()
		return died(target, ctid, began, err)
	}
	resultW.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); scanLines(stdout, func(b []byte) { out.eventLine(b) }) }()
	go func() { defer wg.Done(); scanLines(stderr, func(b []byte) { out.stderrLine(target, string(b)) }) }()
	data, _ := io.ReadAll(resultR)
	wg.Wait()
	werr := c.Wait()
	var res runResult
	if err := json.Unmarshal(data, &res); err != nil {
		if werr == nil {
			werr = fmt.Errorf("no result: %v", err)
		}
		return died(target, ctid, began, werr)
	}
	return res
}

func scanLines(r io.Reader, line func([]byte)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line(sc.Bytes())
	}
	io.Copy(io.Discard, r)
}

// died is the result of a run that ended without one (killed): what it
// left is not known, so recover is what to do.
func died(target string, ctid int, began time.Time, err error) runResult {
	return runResult{Changed: true, Failed: true, RC: engine.ExitRecover, Reason: engine.ReasonRecoverNeeded, Target: target, CTID: ctid,
		Msg:       fmt.Sprintf("the run of %s ended without a result (%v): see reinstall status %s", target, err, target),
		DurationS: seconds(time.Since(began))}
}

// notStarted is the result of a run an interrupt kept from starting.
func notStarted(target string, ctid int) runResult {
	return runResult{Failed: true, RC: engine.ExitFailed, Reason: engine.ReasonInterrupted, Stage: engine.StagePreflight,
		Target: target, CTID: ctid, Msg: "interrupted before it started"}
}

// sumResults is the result of a command over several containers.
func sumResults(results []runResult, took time.Duration) runResult {
	sum := runResult{DurationS: seconds(took), Results: results}
	worst := -1
	var ok, failed []string
	for i, r := range results {
		sum.Changed = sum.Changed || r.Changed
		if r.RC == 0 {
			ok = append(ok, r.Target)
			continue
		}
		failed = append(failed, fmt.Sprintf("%s (exit %d, %s)", r.Target, r.RC, r.Reason))
		if worst < 0 || severity[r.RC] > severity[results[worst].RC] {
			worst = i
		}
	}
	sum.Msg = fmt.Sprintf("%d of %d containers reinstalled", len(ok), len(results))
	if worst >= 0 {
		w := results[worst]
		sum.RC, sum.Failed, sum.Reason, sum.Stage = w.RC, true, w.Reason, w.Stage
		sum.Msg += "; failed: " + strings.Join(failed, ", ")
	}
	return sum
}
