package sdk

import (
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// MaxLogLine is the longest line, in bytes, a LogWriter sends.
const MaxLogLine = 64 << 10

// TruncatedMark ends a line a LogWriter cut at MaxLogLine bytes.
const TruncatedMark = " …[line truncated]"

// LogWriter returns a writer that sends each complete line written to it to
// ui.Log at the given level; Close flushes a last unterminated line. Use it
// for a command's stdout and stderr.
//
// A line longer than MaxLogLine bytes is sent cut at MaxLogLine bytes (at a
// character boundary) and marked with TruncatedMark; the rest of it, up to
// the next newline, is dropped. The writer so holds at most MaxLogLine
// bytes, however long a line a command writes.
func LogWriter(ui UI, level Level) io.WriteCloser {
	return &logWriter{ui: ui, level: level}
}

type logWriter struct {
	mu    sync.Mutex
	ui    UI
	level Level
	buf   []byte
	// dropping is set while the rest of a truncated line is dropped.
	dropping bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if w.dropping {
			if i < 0 {
				return n, nil
			}
			w.dropping = false
			p = p[i+1:]
			continue
		}
		line := p
		if i >= 0 {
			line = p[:i]
		}
		if len(w.buf)+len(line) > MaxLogLine {
			w.buf = append(w.buf, line[:MaxLogLine-len(w.buf)]...)
			w.ui.Log(w.level, string(cutAtRune(w.buf))+TruncatedMark)
			w.buf = w.buf[:0]
			w.dropping = i < 0
			if i < 0 {
				return n, nil
			}
			p = p[i+1:]
			continue
		}
		w.buf = append(w.buf, line...)
		if i < 0 {
			return n, nil
		}
		w.ui.Log(w.level, string(w.buf))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// cutAtRune drops an incomplete UTF-8 character at the end of b.
func cutAtRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.ui.Log(w.level, string(w.buf))
	}
	w.buf, w.dropping = nil, false
	return nil
}
