package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/termsafe"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// isTerminal tells whether w is a terminal where progress can be drawn
// live: one that says how wide it is (a pseudo-terminal nobody sized, as
// some tools leave it, gets plain lines; the list would draw nothing).
func isTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil && ws.Col > 0
}

// progressView draws a run on a terminal: a live list of its stages, each
// with a spinner (a bar with bytes and files for provision stages) and its
// elapsed time; the plugins' log lines and the run's other lines are
// printed above the list, the summary below it once it ends. Should the
// list stop drawing (a write to the terminal failed: the operator's
// connection dropped), the run goes on with plain lines (textEvents).
type progressView struct {
	term io.Writer
	p    *mpb.Progress
	// above prints the text view's lines above the list.
	above engine.Sink
	// mpbDone is closed once p has shut down, by Wait or a failed write.
	mpbDone chan any

	// mu guards bars, plain, summary and closed. mpb draws from its own
	// goroutines and calls stageBar.decor, which never takes mu.
	mu    sync.Mutex
	bars  map[string]*stageBar
	plain engine.Sink // the plain lines, once the list is gone
	// summary is the run-finished event, printed below the list.
	summary *engine.Event
	closed  bool

	// refresh asks mpb to draw: every refreshEvery, and once more at the
	// end, so that the last lines written above the list are shown.
	refresh     chan any
	stopRefresh chan struct{}
}

const refreshEvery = 120 * time.Millisecond

// closeWait bounds the wait for the list's last drawing when the view
// closes; past it the list is shut down as it is.
const closeWait = 5 * time.Second

// stageBar is one stage's line.
type stageBar struct {
	bar *mpb.Bar
	mu  sync.Mutex
	// began, took (once ended) and note are what the line shows after the bar.
	began time.Time
	took  time.Duration
	ended bool
	note  string
}

func newProgressView(term io.Writer) *progressView {
	v := &progressView{term: term, bars: map[string]*stageBar{}, mpbDone: make(chan any), refresh: make(chan any), stopRefresh: make(chan struct{})}
	v.p = mpb.New(mpb.WithOutput(term), mpb.WithWidth(100), mpb.WithManualRefresh(v.refresh), mpb.WithShutdownNotifier(v.mpbDone))
	v.above = textEvents(writerFunc(v.write))
	go v.tick()
	return v
}

func (v *progressView) tick() {
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			select {
			case v.refresh <- now:
			case <-v.stopRefresh:
				return
			case <-v.mpbDone:
				return
			}
		case <-v.stopRefresh:
			return
		case <-v.mpbDone:
			return
		}
	}
}

// writerFunc is a function as an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Write prints other output (the host's log) above the list while it is
// drawn, and to the terminal after.
func (v *progressView) Write(b []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.write(b)
}

// write is Write with mu held.
func (v *progressView) write(b []byte) (int, error) {
	if !v.closed && v.plain == nil {
		if n, err := v.p.Write(b); err == nil {
			return n, nil
		}
	}
	return v.term.Write(b)
}

func (v *progressView) event(ev engine.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	if v.plain == nil {
		select {
		case <-v.mpbDone:
			v.plain = textEvents(v.term)
		default:
		}
	}
	if v.plain != nil {
		v.plain(ev)
		return
	}
	switch ev.Type {
	case engine.EventStageStarted:
		if sb := v.addBar(ev, ""); sb != nil {
			v.bars[ev.Stage] = sb
		}
	case engine.EventStageSkipped:
		if sb := v.addBar(ev, "skipped: "+termsafe.Printable(ev.Message)); sb != nil {
			sb.end(0)
			sb.bar.SetTotal(-1, true)
		}
	case engine.EventStageProgress:
		if sb := v.bars[ev.Stage]; sb != nil {
			sb.progress(ev)
		}
	case engine.EventStageFinished:
		if sb := v.bars[ev.Stage]; sb != nil {
			sb.end(ev.Duration)
			sb.bar.SetTotal(-1, true)
		}
	case engine.EventStageFailed:
		if sb := v.bars[ev.Stage]; sb != nil {
			sb.end(ev.Duration)
			sb.setNote("failed")
			sb.bar.Abort(false)
		}
	case engine.EventRunFinished:
		v.summary = &ev
	default:
		v.above(ev)
	}
}

// addBar adds a stage's line: a bar for a provision stage, else a spinner.
// Once the list is gone it prints the event as a plain line instead, as
// every later one, and returns nil.
func (v *progressView) addBar(ev engine.Event, note string) *stageBar {
	sb := &stageBar{began: time.Now(), note: note}
	label := fmt.Sprintf("[%d/%d] %s %q", ev.Index, ev.Count, ev.Kind, ev.Stage)
	opts := []mpb.BarOption{
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(sb.decor, decor.WC{C: decor.DindentRight})),
		mpb.BarFillerOnAbort("✗"),
	}
	var err error
	if ev.Kind == "provision" && note == "" {
		sb.bar, err = v.p.Add(0, mpb.BarStyle().Build(), append(opts, mpb.BarWidth(30))...)
	} else {
		mark := "✓"
		if note != "" {
			mark = "-"
		}
		sb.bar, err = v.p.Add(0, mpb.SpinnerStyle().Build(), append(opts, mpb.BarWidth(1), mpb.BarFillerOnComplete(mark))...)
	}
	if err != nil { // the list has shut down
		v.plain = textEvents(v.term)
		v.plain(ev)
		return nil
	}
	return sb
}

// close ends the list (a stage still drawn is shown as stopped) and prints
// the run's summary below it. It returns however the list ended: no send
// to mpb outlives its shutdown, and its last drawing is awaited closeWait
// at most.
func (v *progressView) close() {
	v.mu.Lock()
	for _, sb := range v.bars {
		sb.bar.Abort(false)
	}
	summary := v.summary
	v.mu.Unlock()
	close(v.stopRefresh)
	select {
	case v.refresh <- time.Now():
	case <-v.mpbDone:
	}
	waited := make(chan struct{})
	go func() {
		v.p.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(closeWait):
		v.p.Shutdown()
	}
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	if summary != nil {
		textEvents(v.term)(*summary)
	}
}

func (sb *stageBar) progress(ev engine.Event) {
	sb.mu.Lock()
	sb.note = termsafe.Printable(ev.Message)
	if ev.Files > 0 {
		sb.note += fmt.Sprintf(", %d files", ev.Files)
	}
	sb.mu.Unlock()
	if ev.Total > 0 {
		sb.bar.SetTotal(ev.Total, false)
	}
	sb.bar.SetCurrent(ev.Done)
}

func (sb *stageBar) end(took time.Duration) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.took, sb.ended = took, true
}

func (sb *stageBar) setNote(note string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.note = note
}

// decor is the text after the bar: the elapsed time, then the note.
func (sb *stageBar) decor(decor.Statistics) string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.ended && sb.took == 0 { // skipped
		return sb.note
	}
	took := sb.took
	if !sb.ended {
		took = time.Since(sb.began).Truncate(100 * time.Millisecond)
	}
	s := round(took).String()
	if sb.note != "" {
		s += "  " + sb.note
	}
	return s
}
