package journal

import (
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Every byte of a record's text comes back as it was written, UTF-8 or
// not: recovery acts on the paths and data the run recorded, not on
// U+FFFD.
func TestJournalKeepsEveryByte(t *testing.T) {
	texts := []string{"Jos\xe9", "\xff\xfe", "cut \xe2\x82", "\U0010ff80 and \U0010ffff, escapes of their own", "\ufffd itself", "plain"}
	path := filepath.Join(t.TempDir(), "101.journal")
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []Record
	for i, s := range texts {
		r := Record{Type: RecordStep, Stage: "copy", Step: s, Phase: string(sdk.PhaseBegin), Data: map[string]string{s: s, "path": "/home/" + s}}
		if i == 0 {
			r = Record{Type: RecordRun, Header: &Header{Format: Format, Context: sdk.RunContext{
				Private: "/vz/private/" + s, Hostname: s, Config: map[string]string{"DESCRIPTION": s},
				Options: sdk.Options{Scripts: []string{s}},
			}, PipelineSource: []byte("# " + s)}}
		}
		if err := j.Append(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].Seq, got[i].Time = 0, time.Time{}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records read back (-written +read):\n%s", d)
	}
}

func TestEscapeTextRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain ünïcödé", "Jos\xe9", "\x80\xff", "\xed\xa0\x80", "\U0010ff80\U0010ffff", "\U0010ff7f stays", "\ufffd"} {
		e := escapeText(s)
		if !utf8Valid(e) {
			t.Errorf("escapeText(%q) = %q: no UTF-8", s, e)
		}
		if got := unescapeText(e); got != s {
			t.Errorf("unescapeText(escapeText(%q)) = %q", s, got)
		}
	}
	if got := escapeText("plain ünïcödé"); got != "plain ünïcödé" {
		t.Errorf("UTF-8 text changed: %q", got)
	}
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
