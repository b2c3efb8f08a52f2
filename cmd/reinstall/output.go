package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// textEvents prints one line per stage start and end, and the plugins' log
// lines indented below their stage.
func textEvents(w io.Writer) engine.Sink {
	var mu sync.Mutex
	return func(ev engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		prefix := fmt.Sprintf("reinstall %d:", ev.CTID)
		if ev.CT != "" {
			prefix = "reinstall " + ev.CT + ":"
		}
		switch ev.Type {
		case engine.EventSlotWaiting:
			fmt.Fprintf(w, "%s %s\n", prefix, ev.Message)
		case engine.EventRunStarted:
			if ev.Command == "reinstall" {
				fmt.Fprintf(w, "%s pipeline %q, %d stages (run %s)\n", prefix, ev.Pipeline, ev.Count, ev.RunID)
			}
		case engine.EventStageStarted:
			fmt.Fprintf(w, "%s [%d/%d] %s %q ...\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage)
		case engine.EventStageSkipped:
			fmt.Fprintf(w, "%s [%d/%d] %s %q skipped: %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, termsafe.Printable(ev.Message))
		case engine.EventStageFinished:
			fmt.Fprintf(w, "%s [%d/%d] %s %q done in %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, round(ev.Duration))
		case engine.EventStageFailed:
			fmt.Fprintf(w, "%s [%d/%d] %s %q failed after %s\n", prefix, ev.Index, ev.Count, ev.Kind, ev.Stage, round(ev.Duration))
		case engine.EventStageLog:
			if ev.Level != "debug" && ev.Level != "trace" {
				fmt.Fprintf(w, "    %s: %s\n", ev.Stage, termsafe.Printable(strings.TrimRight(ev.Message, "\n")))
			}
		case engine.EventRollbackStarted:
			fmt.Fprintf(w, "%s rolling back\n", prefix)
		case engine.EventRollbackFinished:
			if ev.Error == "" {
				fmt.Fprintf(w, "%s rolled back: the container is as it was\n", prefix)
			}
		case engine.EventRunFinished:
			if ev.Command == "reinstall" && ev.ExitCode == 0 {
				fmt.Fprintf(w, "%s reinstalled in %s; the container is %s%s\n", prefix, round(ev.Duration), ev.State, continuedPast(ev))
			}
		}
	}
}

// continuedPast names, for the final line, the stages that failed and were
// continued past.
func continuedPast(ev engine.Event) string {
	if len(ev.ContinuedPast) == 0 {
		return ""
	}
	return "; failed and continued past (on_failure = \"continue\"): " + strings.Join(ev.ContinuedPast, ", ")
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// printDiagnostics prints pipeline diagnostics with their source snippets.
func printDiagnostics(w io.Writer, e *engine.Error) {
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
		files[d.Subject.Filename] = pipeline.SourceFile(d.Subject.Filename, src)
	}
	hcl.NewDiagnosticTextWriter(w, files, 100, false).WriteDiagnostics(e.Diags)
}
