package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/reinstall-dev/reinstall/pipeline"
)

// textEvents prints one line per stage start and end, and the plugins' log
// lines indented below their stage.
func textEvents(w io.Writer) pipeline.Sink {
	var mu sync.Mutex
	return func(ev pipeline.Event) {
		mu.Lock()
		defer mu.Unlock()
		prefix := fmt.Sprintf("reinstall %d:", ev.CTID)
		switch ev.Type {
		case pipeline.EventRunStarted:
			if ev.Command == "reinstall" {
				fmt.Fprintf(w, "%s pipeline %q, %d stages (run %s)\n", prefix, ev.Pipeline, ev.Count, ev.RunID)
			}
		case pipeline.EventStageStarted:
			fmt.Fprintf(w, "%s [%d/%d] %s %q ...\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage)
		case pipeline.EventStageSkipped:
			fmt.Fprintf(w, "%s [%d/%d] %s %q skipped: %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, printable(ev.Message))
		case pipeline.EventStageFinished:
			fmt.Fprintf(w, "%s [%d/%d] %s %q done in %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, round(ev.Duration))
		case pipeline.EventStageFailed:
			fmt.Fprintf(w, "%s [%d/%d] %s %q failed after %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, round(ev.Duration))
		case pipeline.EventStageLog:
			if ev.Level != "debug" && ev.Level != "trace" {
				fmt.Fprintf(w, "    %s: %s\n", ev.Stage, printable(strings.TrimRight(ev.Message, "\n")))
			}
		case pipeline.EventRollbackStarted:
			fmt.Fprintf(w, "%s rolling back\n", prefix)
		case pipeline.EventRollbackFinished:
			if ev.Error == "" {
				fmt.Fprintf(w, "%s rolled back: the container is as it was\n", prefix)
			}
		case pipeline.EventRunFinished:
			if ev.Command == "reinstall" && ev.ExitCode == 0 {
				fmt.Fprintf(w, "%s reinstalled in %s; the container is %s\n", prefix, round(ev.Duration), ev.State)
			}
		}
	}
}

// printable is s as it may reach the operator's terminal or log file: a
// stage's lines come from inside the container, and an escape sequence in
// them must not drive the terminal (set its clipboard, move its cursor). A
// control or other non-graphic character but tab is shown escaped (\x1b,
// \u009b, \u202e), as is a byte that is no UTF-8.
func printable(s string) string {
	clean := func(r rune) bool { return r == '\t' || unicode.IsGraphic(r) }
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !clean(r) }) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case clean(r):
			b.WriteString(s[:size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		s = s[size:]
	}
	return b.String()
}

// printableWriter writes lines through printable, keeping their newlines:
// the host's log, whose lines may quote a plugin's, on the way to the
// terminal or the log file. Each Write is one or more whole lines (hclog
// writes one entry at a time).
type printableWriter struct{ w io.Writer }

func (p printableWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, printableLines(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// printableLines is s through printable, line by line, newlines kept.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// printDiagnostics prints pipeline diagnostics with their source snippets.
func printDiagnostics(w io.Writer, e *pipeline.Error) {
	if len(e.Diags) == 0 {
		return
	}
	files := map[string]*hcl.File{}
	for _, d := range e.Diags {
		if d.Subject == nil || files[d.Subject.Filename] != nil {
			continue
		}
		src := e.Sources[d.Subject.Filename]
		if src == nil {
			continue
		}
		f, _ := hclsyntax.ParseConfig(src, d.Subject.Filename, hcl.InitialPos)
		files[d.Subject.Filename] = f
	}
	hcl.NewDiagnosticTextWriter(w, files, 100, false).WriteDiagnostics(e.Diags)
}
