package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/reinstall-dev/reinstall/internal/requests"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func (o *runOutput) registerRequest(f *pflag.FlagSet) {
	f.StringVar(&o.requestID, "request-id", "", "the caller's `ID` of this request: run again, a request that reinstalled the container changes nothing and returns the recorded result")
}

// beginRequest takes the run's --request-id for its container. It returns
// true when the request had finished before: the recorded result is then
// the command's, with changed false, and nothing runs.
func (o *runOutput) beginRequest(g *globals, h *vz.Host, target string) (replayed bool, err error) {
	if o.requestID == "" {
		return false, nil
	}
	if err := requests.ValidateID(o.requestID); err != nil {
		return false, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonUsage, Err: err}
	}
	ctid, _, err := h.Resolve(target)
	if err != nil {
		return false, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Err: err}
	}
	req, err := requests.Begin(h.LockDir, ctid, o.requestID)
	var re *requests.RunningError
	if errors.As(err, &re) {
		return false, &engine.Error{Code: engine.ExitLocked, Stage: engine.StagePreflight, Reason: engine.ReasonLocked, Err: err}
	}
	if err != nil {
		return false, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonRefused, Err: err}
	}
	o.request = req
	data, ok, err := req.Recorded()
	if err != nil {
		return false, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonRefused, Err: err}
	}
	if !ok {
		return false, nil
	}
	var res runResult
	if err := json.Unmarshal(data, &res); err != nil {
		return false, &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Reason: engine.ReasonRefused,
			Err: fmt.Errorf("request %q: record %s: %w", o.requestID, requests.Dir(h.LockDir, ctid), err)}
	}
	res.Changed, res.Replayed, res.Target = false, true, target
	o.done = &res
	if !o.quiet && !o.json {
		fmt.Fprintf(g.stderr, "reinstall %d: request %q finished before (run %s, exit %d); nothing changed\n", ctid, o.requestID, res.RunID, res.RC)
	}
	return true, nil
}

// recordRequest records a run that changed its container under its request
// id. A run that changed nothing is not recorded: running the request
// again tries again.
func (o *runOutput) recordRequest(g *globals, res runResult) {
	if o.request == nil || !res.Changed {
		return
	}
	data, err := json.Marshal(res)
	if err == nil {
		err = o.request.Record(data)
	}
	if err != nil {
		fmt.Fprintf(g.stderr, "reinstall: %v\n", err)
	}
}

func (o *runOutput) releaseRequest() {
	if o.request != nil {
		o.request.Release()
		o.request = nil
	}
}
