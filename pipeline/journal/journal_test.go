package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeRecords writes a journal of complete records and returns its path
// and content.
func writeRecords(t *testing.T, types ...string) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "101.journal")
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range types {
		if err := j.Append(Record{Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func recordTypes(records []Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Type)
	}
	return out
}

// A torn last record (the crash came while it was written) is what a crash
// leaves: ignored on reading, and cut off before a recovery appends, so that
// the next record starts a line of its own.
func TestJournalTornLastRecordIsIgnored(t *testing.T) {
	path, data := writeRecords(t, RecordRun, RecordStageBegin)
	torn := append(data, `{"seq":3,"time":"2026-01-01T00:00:00Z","type":"st`...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	records, err := Read(path)
	if err != nil {
		t.Fatalf("a torn last record: %v", err)
	}
	if d := cmp.Diff([]string{RecordRun, RecordStageBegin}, recordTypes(records)); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	j, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(Record{Type: RecordRollback}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	records, err = Read(path)
	if err != nil {
		t.Fatalf("after appending past a torn record: %v", err)
	}
	if d := cmp.Diff([]string{RecordRun, RecordStageBegin, RecordRollback}, recordTypes(records)); d != "" {
		t.Errorf("records after the append (-want +got):\n%s", d)
	}
	if records[2].Seq != 3 {
		t.Errorf("the appended record has seq %d, want 3", records[2].Seq)
	}
}

// A record that does not decode and is not the torn last line is
// corruption: refused with the journal's path and the line, and the file is
// left as it is.
func TestJournalCorruptRecordIsRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(lines []string) []string
		line int
	}{
		{"garbage in the middle", func(l []string) []string { l[1] = "not json"; return l }, 2},
		{"a record cut short in the middle", func(l []string) []string { l[1] = l[1][:20]; return l }, 2},
		{"a complete last line that does not decode", func(l []string) []string { l[2] = `{"seq":3,`; return l }, 3},
		{"NUL bytes in the middle", func(l []string) []string { l[1] = strings.Repeat("\x00", 40); return l }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, data := writeRecords(t, RecordRun, RecordStageBegin, RecordStep)
			lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
			for i := range lines {
				lines[i] = strings.TrimSuffix(lines[i], "\n")
			}
			bad := strings.Join(tt.edit(lines), "\n") + "\n"
			if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Line != tt.line || ce.Path != path {
				t.Fatalf("Read: %v; want a CorruptError at %s line %d", err, path, tt.line)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line "+strconv.Itoa(tt.line)) {
				t.Errorf("the message does not name the journal and line: %v", err)
			}
			if _, _, err := Open(path); !errors.As(err, &ce) {
				t.Errorf("Open: %v, want the corruption refused", err)
			}
			if after, _ := os.ReadFile(path); string(after) != bad {
				t.Error("the corrupt journal was changed")
			}
		})
	}
}

// A journal in a newer format than this binary knows is refused.
func TestJournalNewerFormatIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "101.journal")
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(Record{Type: RecordRun, Header: &Header{Format: Format + 1}}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "journal format") {
		t.Errorf("Read: %v, want the newer format refused", err)
	}
}

// Once a write has failed, every later append fails too, Finish included:
// nothing is announced as recorded after an unknown state on disk.
func TestJournalAppendErrorsStick(t *testing.T) {
	path, _ := writeRecords(t)
	j, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j.f.Close() // the next write fails
	if err := j.Append(Record{Type: RecordStep}); err == nil {
		t.Fatal("an append to a closed file succeeded")
	}
	if err := j.Append(Record{Type: RecordStep}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("the append after a failed one: %v, want the first failure again", err)
	}
	if err := j.Finish(); err == nil {
		t.Error("Finish after a failed append succeeded")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the journal is gone after a failed append: %v", err)
	}
}
