package journal

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

func TestReplay(t *testing.T) {
	hdr := &Header{Format: Format, Runtime: "native"}
	begin := func(name string) Record {
		return Record{Type: RecordStageBegin, Stage: name, Kind: "swap", Plugin: "swap", Config: json.RawMessage(`{"a":1}`)}
	}
	step := func(name, step string) Record {
		return Record{Type: RecordStep, Stage: name, Step: step, Phase: "begin", Data: map[string]string{"k": "v"}}
	}
	done := func(name string, out map[string]string) Record {
		return Record{Type: RecordStageDone, Stage: name, Data: out}
	}
	rollback := func(name, phase string, data map[string]string) Record {
		return Record{Type: RecordRollback, Stage: name, Phase: phase, Data: data}
	}
	for _, tt := range []struct {
		name    string
		records []Record
		want    *Run
	}{{
		name:    "a header alone",
		records: []Record{{Type: RecordRun, Header: hdr}},
		want:    &Run{Header: hdr},
	}, {
		name:    "a stage cut short keeps its steps for its rollback",
		records: []Record{{Type: RecordRun, Header: hdr}, begin("swap"), step("swap", "exchange")},
		want: &Run{Header: hdr, Stages: []*Stage{{Name: "swap", Kind: "swap", Plugin: "swap", State: Begun, Config: json.RawMessage(`{"a":1}`),
			Steps: []sdk.JournalEntry{{Stage: "swap", Step: "exchange", Phase: "begin", Data: map[string]string{"k": "v"}}}}}},
	}, {
		name:    "a finished stage with no outputs has an empty map, then the commit",
		records: []Record{{Type: RecordRun, Header: hdr}, begin("swap"), done("swap", nil), {Type: RecordCommit}},
		want:    &Run{Header: hdr, Committed: true, Stages: []*Stage{{Name: "swap", Kind: "swap", Plugin: "swap", State: Done, Config: json.RawMessage(`{"a":1}`), Outputs: map[string]string{}}}},
	}, {
		name: "a finished rollback leaves no steps; a failed one keeps them and its error",
		records: []Record{{Type: RecordRun, Header: hdr}, begin("a"), step("a", "x"), begin("b"), step("b", "y"),
			rollback("b", RollbackBegin, nil), rollback("b", RollbackFailed, map[string]string{"error": "boom"}),
			rollback("a", RollbackBegin, nil), rollback("a", RollbackDone, nil), {Type: RecordRolledBack}},
		want: &Run{Header: hdr, RolledBack: true, Stages: []*Stage{
			{Name: "a", Kind: "swap", Plugin: "swap", State: RolledBack, Config: json.RawMessage(`{"a":1}`)},
			{Name: "b", Kind: "swap", Plugin: "swap", State: Unrolled, Config: json.RawMessage(`{"a":1}`), RollbackError: "boom",
				Steps: []sdk.JournalEntry{{Stage: "b", Step: "y", Phase: "begin", Data: map[string]string{"k": "v"}}}},
		}},
	}, {
		name: "discarded and skipped rollbacks are settled",
		records: []Record{{Type: RecordRun, Header: hdr}, begin("a"), begin("b"),
			rollback("b", RollbackDiscarded, nil), rollback("a", RollbackSkipped, nil), {Type: RecordFinished}},
		want: &Run{Header: hdr, Finished: true, Stages: []*Stage{
			{Name: "a", Kind: "swap", Plugin: "swap", State: Skipped, Config: json.RawMessage(`{"a":1}`)},
			{Name: "b", Kind: "swap", Plugin: "swap", State: Discarded, Config: json.RawMessage(`{"a":1}`)},
		}},
	}, {
		name:    "a stage begun again (a recovery finishing it) starts over in its first place",
		records: []Record{{Type: RecordRun, Header: hdr}, begin("a"), begin("b"), step("a", "x"), done("a", map[string]string{"o": "1"}), begin("a")},
		want: &Run{Header: hdr, Stages: []*Stage{
			{Name: "a", Kind: "swap", Plugin: "swap", State: Begun, Config: json.RawMessage(`{"a":1}`)},
			{Name: "b", Kind: "swap", Plugin: "swap", State: Begun, Config: json.RawMessage(`{"a":1}`)},
		}},
	}, {
		name:    "records of a stage that never began are ignored",
		records: []Record{step("ghost", "x"), done("ghost", nil), rollback("ghost", RollbackDone, nil)},
		want:    &Run{},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Replay(tt.records)); d != "" {
				t.Errorf("Replay (-want +got):\n%s", d)
			}
		})
	}
}

func TestStateSettled(t *testing.T) {
	got := map[State]bool{}
	for _, s := range []State{Begun, Done, RolledBack, Unrolled, Discarded, Skipped} {
		got[s] = s.Settled()
	}
	want := map[State]bool{Begun: false, Done: false, RolledBack: true, Unrolled: false, Discarded: true, Skipped: true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Settled (-want +got):\n%s", d)
	}
}
