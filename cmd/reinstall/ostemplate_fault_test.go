//go:build faultinject

package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// TestOSTemplateRecover kills the host right after the commit record, before
// the config is written, and right before it: recovery finishing the run
// writes OSTEMPLATE, recovery rolling it back leaves the config alone.
func TestOSTemplateRecover(t *testing.T) {
	t.Parallel()
	commit := ostemplateCommitRecord(t)
	cases := []struct {
		name         string
		record       int
		wantTemplate string
		wantState    string
	}{
		{name: "after the commit record", record: commit, wantTemplate: otherTemplate, wantState: "running"},
		{name: "before the commit record", record: commit - 1, wantTemplate: testenv.DefaultTemplate, wantState: "stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHost(t)
			h.createCT()
			h.addOtherTemplate()
			config := h.configWithComments()
			r := h.cliEnv([]string{"REINSTALL_FAULT=host:record:" + strconv.Itoa(tc.record)}, "--ostemplate", otherTemplate, "101")
			if r.code == 0 {
				t.Fatal("the fault point was never reached")
			}
			records, err := journal.Read(h.Path("vz/lock/101.journal"))
			if err != nil || len(records) == 0 || records[0].Header == nil {
				t.Fatalf("journal after the crash: %v", err)
			}
			if got := records[0].Header.SetOSTemplate; got != otherTemplate {
				t.Errorf("journal header set_ostemplate = %q, want %q", got, otherTemplate)
			}
			if got := readFile(t, h.Path("etc/vz/conf/101.conf")); got != config {
				t.Errorf("config written before the point of no return:\n%s", got)
			}
			// status tells what recover will do, the template write included.
			var st struct {
				Unfinished engine.Pending `json:"unfinished"`
			}
			if err := json.Unmarshal([]byte(h.mustCLI("status", "--json", "101").stdout), &st); err != nil {
				t.Fatal(err)
			}
			if st.Unfinished.SetOSTemplate != otherTemplate || st.Unfinished.Runtime != "native" ||
				strings.Contains(st.Unfinished.Recovery, "OSTEMPLATE") != st.Unfinished.Committed {
				t.Errorf("status before recover: %+v", st.Unfinished)
			}
			h.mustCLI("recover", "101")
			want := strings.Replace(config, `OSTEMPLATE="`+testenv.DefaultTemplate+`"`, `OSTEMPLATE="`+tc.wantTemplate+`"`, 1)
			if d := cmp.Diff(want, readFile(t, h.Path("etc/vz/conf/101.conf"))); d != "" {
				t.Errorf("config after recover (-want +got):\n%s", d)
			}
			if got := h.status(); got != tc.wantState {
				t.Errorf("status after recover %q, want %q", got, tc.wantState)
			}
			if got := exists(h.private(otherMarker)); got != (tc.wantTemplate == otherTemplate) {
				t.Errorf("other template's marker present = %v after recover", got)
			}
			h.assertClean()
		})
	}
}

// ostemplateCommitRecord makes a dry run of `reinstall --ostemplate` and
// returns the sequence number of its commit record.
func ostemplateCommitRecord(t *testing.T) int {
	t.Helper()
	h := newTestHost(t)
	h.createCT()
	h.addOtherTemplate()
	copyPath := h.Path("journal-copy")
	if r := h.cliEnv([]string{"REINSTALL_FAULT=copy-journal:" + copyPath}, "--ostemplate", otherTemplate, "101"); r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	records, err := journal.Read(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		if rec.Type == journal.RecordCommit {
			return rec.Seq
		}
	}
	t.Fatalf("no commit record in the dry run's %d records", len(records))
	return 0
}
