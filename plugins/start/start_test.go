package start

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

// TestStartAndRollback runs the start stage through sdktest: it journals the
// start, starts the container through the host and says so; its rollback
// stops it again, and a rollback with nothing journaled changes nothing.
func TestStartAndRollback(t *testing.T) {
	c := sdktest.Serve(t, Plugin())
	rc := sdk.RunContext{StageName: "start"}
	out := c.Run(sdk.KindStart, nil, rc)
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	if d := cmp.Diff(map[string]string{"state": "running"}, out.Result.Outputs); d != "" {
		t.Errorf("outputs (-want +got):\n%s", d)
	}
	if !c.Host.Running() {
		t.Error("the container is not running after the stage")
	}
	var steps []string
	for _, e := range c.Host.JournalEntries() {
		steps = append(steps, e.Step+"/"+string(e.Phase))
	}
	if d := cmp.Diff([]string{"start/begin", "start/done"}, steps); d != "" {
		t.Errorf("journal (-want +got):\n%s", d)
	}
	if rb := c.Rollback(sdk.KindStart, nil, rc, nil); rb.Failure != "" || !c.Host.Running() {
		t.Errorf("a rollback with nothing journaled: failure %q, running %v; want nothing done", rb.Failure, c.Host.Running())
	}
	if rb := c.Rollback(sdk.KindStart, nil, rc, c.Host.JournalEntries()); rb.Failure != "" {
		t.Fatalf("Rollback failed: %s", rb.Failure)
	}
	if c.Host.Running() {
		t.Error("the container still runs after the rollback")
	}
}
