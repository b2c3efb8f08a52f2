package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Host services serve the calling stage only while its call is in
// progress, and give it only the secrets of its own configuration.
func TestHostServicesServeOnlyTheCallingStage(t *testing.T) {
	a := &stageRun{stage: &pipeline.Stage{Name: "a"}, sensitive: []string{"token"}, config: []byte(`{"token":"secret-of-a"}`)}
	b := &stageRun{stage: &pipeline.Stage{Name: "b"}, sensitive: []string{"token"}, config: []byte(`{"token":"secret-of-b"}`)}
	r := &run{}
	s := r.services()
	asA := sdk.WithCallingStage(context.Background(), "a")
	asB := sdk.WithCallingStage(context.Background(), "b")

	leaveA := r.enter(a)
	if v, err := s.Secret(asA, "token"); err != nil || v != "secret-of-a" {
		t.Errorf("a's own secret: %q, %v", v, err)
	}
	leaveA()
	defer r.enter(b)()
	if v, err := s.Secret(asA, "token"); err == nil || !strings.Contains(err.Error(), "has returned") {
		t.Errorf("a, returned, read a secret while b runs: %q, %v", v, err)
	}
	if err := s.Journal(asA, "forged", sdk.PhaseBegin, nil); err == nil {
		t.Error("a, returned, journaled while b runs")
	}
	if len(b.entries) != 0 || len(a.entries) != 0 {
		t.Errorf("entries recorded: a %v, b %v", a.entries, b.entries)
	}
	if v, err := s.Secret(asB, "token"); err != nil || v != "secret-of-b" {
		t.Errorf("b's own secret: %q, %v", v, err)
	}
	if _, err := s.Secret(context.Background(), "token"); err == nil {
		t.Error("a call bound to no stage got a secret")
	}
}
