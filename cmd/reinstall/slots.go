package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/reinstall-dev/reinstall/internal/slots"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// maxConcurrentKey is the vz.conf key of the host's limit of runs at once.
const maxConcurrentKey = "REINSTALL_MAX_CONCURRENT"

// hostLimit is how many reinstalls the host runs at once, across
// processes: --max-concurrent if given (flag >= 0), else vz.conf's
// REINSTALL_MAX_CONCURRENT; 0 means no limit.
func hostLimit(h *vz.Host, flag int) (int, error) {
	if flag >= 0 {
		return flag, nil
	}
	v, ok := h.Global.Get(maxConcurrentKey)
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonConfigInvalid,
			Err: fmt.Errorf("%s: %s=%q: want a number of runs, 0 for no limit", h.Path("/etc/vz/vz.conf"), maxConcurrentKey, v)}
	}
	return n, nil
}

// takeSlot waits for one of the host's limit slots (none to take with no
// limit), telling the report once if it has to wait. Only an interrupt
// ends the wait.
func takeSlot(ctx context.Context, h *vz.Host, report *runReport, limit int) (*slots.Slot, error) {
	if limit == 0 {
		return nil, nil
	}
	waiting := func() {
		report.emit(engine.Event{Type: engine.EventSlotWaiting, Count: limit,
			Message: fmt.Sprintf("waiting for a slot: the host runs %d reinstalls at once", limit)})
	}
	s, err := slots.Acquire(ctx, h.LockDir, limit, waiting)
	if ctx.Err() != nil {
		return nil, &engine.Error{Code: engine.ExitFailed, Stage: engine.StagePreflight, Reason: engine.ReasonInterrupted,
			Err: fmt.Errorf("interrupted while waiting for a slot")}
	}
	if err != nil {
		return nil, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonRefused, Err: err}
	}
	return s, nil
}
