package sdk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// logLines is a UI that records the lines logged to it.
type logLines struct{ lines []string }

func (u *logLines) Log(level Level, msg string)           { u.lines = append(u.lines, string(level)+" "+msg) }
func (u *logLines) Progress(string, int64, int64, string) {}
func (u *logLines) Report(Progress)                       {}

// LogWriter sends one line per newline, in any split of the writes, cuts a
// line longer than MaxLogLine bytes at a character boundary and marks it,
// drops the rest of that line, and holds no more than MaxLogLine bytes
// while a command writes a line without end.
func TestLogWriterLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", MaxLogLine)
	for _, tc := range []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"one\ntwo\n", "thr", "ee\nfour"}, []string{"info one", "info two", "info three", "info four"}},
		{"empty lines", []string{"\n\na\n"}, []string{"info ", "info ", "info a"}},
		{"a line of the longest length", []string{long + "\nnext\n"}, []string{"info " + long, "info next"}},
		{"a longer line", []string{long + "zzz\nnext\n"}, []string{"info " + long + TruncatedMark, "info next"}},
		{"a longer line in pieces", []string{long[:1000], long[1000:], "zz", "zz", "z\nnext\n"}, []string{"info " + long + TruncatedMark, "info next"}},
		{"a longer line cut in a character", []string{long[:MaxLogLine-1] + "é and more\nnext"}, []string{"info " + long[:MaxLogLine-1] + TruncatedMark, "info next"}},
		{"a longer unterminated line", []string{long, "zzz"}, []string{"info " + long + TruncatedMark}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ui := &logLines{}
			w := LogWriter(ui, LevelInfo)
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", len(s), n, err)
				}
			}
			w.Close()
			if d := cmp.Diff(tc.want, ui.lines); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
		})
	}
}

// A command writing one endless line (`yes | tr -d '\n'`) does not grow
// the writer: it holds at most MaxLogLine bytes.
func TestLogWriterEndlessLineIsBounded(t *testing.T) {
	t.Parallel()
	ui := &logLines{}
	w := LogWriter(ui, LevelWarn).(*logWriter)
	chunk := []byte(strings.Repeat("y", 4096))
	for range 4 * MaxLogLine / len(chunk) {
		w.Write(chunk)
		if len(w.buf) > MaxLogLine {
			t.Fatalf("the writer holds %d bytes, want at most %d", len(w.buf), MaxLogLine)
		}
	}
	w.Write([]byte("\nafter\n"))
	want := []string{"warn " + strings.Repeat("y", MaxLogLine) + TruncatedMark, "warn after"}
	if d := cmp.Diff(want, ui.lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
}
