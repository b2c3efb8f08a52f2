package engine

import (
	"fmt"
	"sync"
)

// What one stage may print. A script or hook that floods its output (a
// customer's `yes`, a runaway loop) must not fill the host's disk with the
// log file nor the operator's terminal: each stage run (its Run, then its
// Rollback, each afresh) may print MaxStageOutput bytes of lines, each line
// counted with what the log file and --json print around it, so that a
// flood of short lines costs no more than a few long ones. Past it, lines
// are dropped and counted; when the stage's Run or Rollback returns, one
// line says how many were dropped, followed by the stage's last
// stageOutputTail lines (a failing script says why at its end).
const (
	MaxStageOutput = 16 << 20
	// lineOverhead is what a line costs besides its message: more than
	// the log file's time, level and names, or a --json event's fields.
	lineOverhead = 256
	// stageOutputTail lines, of at most stageOutputTailBytes in all, are
	// kept of what is dropped and shown after the count.
	stageOutputTail      = 20
	stageOutputTailBytes = 256 << 10
)

// outputCaps holds each stage's budget; the zero value is ready.
type outputCaps struct {
	mu     sync.Mutex
	stages map[string]*outputCap
}

// outputCap is one stage run's budget.
type outputCap struct {
	spent        int64
	droppedLines int64
	droppedBytes int64
	// tail are the last lines dropped, tailBytes their length.
	tail      []Event
	tailBytes int
}

// admit tells whether a stage's log line may be printed; one that may not
// is counted, and kept among the last ones.
func (c *outputCaps) admit(ev Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stages == nil {
		c.stages = map[string]*outputCap{}
	}
	oc := c.stages[ev.Stage]
	if oc == nil {
		oc = &outputCap{}
		c.stages[ev.Stage] = oc
	}
	cost := int64(len(ev.Message) + lineOverhead + len(ev.Stage) + len(ev.Plugin) + len(ev.Kind))
	if oc.droppedLines == 0 && oc.spent+cost <= MaxStageOutput {
		oc.spent += cost
		return true
	}
	oc.droppedLines++
	oc.droppedBytes += int64(len(ev.Message)) + 1
	oc.tail = append(oc.tail, ev)
	oc.tailBytes += len(ev.Message)
	for len(oc.tail) > stageOutputTail || len(oc.tail) > 1 && oc.tailBytes > stageOutputTailBytes {
		oc.tailBytes -= len(oc.tail[0].Message)
		oc.tail = oc.tail[1:]
	}
	return false
}

// end closes a stage run's budget and returns the lines to print then:
// how much was dropped and the last lines, or nothing.
func (c *outputCaps) end(stage string) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	oc := c.stages[stage]
	delete(c.stages, stage)
	if oc == nil || oc.droppedLines == 0 {
		return nil
	}
	shown := int64(len(oc.tail))
	var tailBytes int64
	for _, ev := range oc.tail {
		tailBytes += int64(len(ev.Message)) + 1
	}
	note := fmt.Sprintf("%d more lines (%s) of output not shown: a stage prints at most %s to the terminal and the log",
		oc.droppedLines-shown, sizeOf(oc.droppedBytes-tailBytes), sizeOf(MaxStageOutput))
	if shown > 0 {
		note += fmt.Sprintf("; its last %d lines:", shown)
	}
	first := oc.tail[0]
	out := []Event{{Type: EventStageLog, Stage: stage, Kind: first.Kind, Plugin: first.Plugin, Level: "warn", Message: note}}
	return append(out, oc.tail...)
}

// sizeOf is a byte count for people: 512 bytes, 3.5 KiB, 16.0 MiB.
func sizeOf(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// stageOutputEnded prints what a stage's budget held back, once its Run or
// Rollback has returned.
func (r *run) stageOutputEnded(stage string) {
	for _, ev := range r.outputCaps.end(stage) {
		r.emit(ev)
	}
}
