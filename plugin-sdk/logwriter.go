package sdk

import (
	"bytes"
	"io"
	"sync"
)

// LogWriter returns a writer that sends each complete line written to it to
// ui.Log at the given level; Close flushes a last unterminated line. Use it
// for a command's stdout and stderr.
func LogWriter(ui UI, level string) io.WriteCloser {
	return &logWriter{ui: ui, level: level}
}

type logWriter struct {
	mu    sync.Mutex
	ui    UI
	level string
	buf   []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.ui.Log(w.level, string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.ui.Log(w.level, string(w.buf))
		w.buf = nil
	}
	return nil
}
