package redact

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret value in text.
const Mask = "(sensitive)"

// MinLength is the shortest value that is hidden in free text: shorter
// ones ("1", "on") would hide ordinary words everywhere. They are still
// kept out of the journal, plan and events by sensitivity, not by text.
const MinLength = 4

// Secrets is the set of secret values of a run. The zero value and nil are
// empty sets; it is safe for concurrent use.
type Secrets struct {
	mu sync.RWMutex
	// values, longest first, so that a secret containing another is
	// hidden whole.
	values []string
}

// Add registers secret values; empty and short ones are ignored.
func (s *Secrets) Add(values ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if len(strings.TrimSpace(v)) < MinLength || slices.Contains(s.values, v) {
			continue
		}
		s.values = append(s.values, v)
	}
	slices.SortStableFunc(s.values, func(a, b string) int { return len(b) - len(a) })
}

// String returns text with every secret replaced by Mask.
func (s *Secrets) String(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// Bytes returns data with every secret replaced by Mask.
func (s *Secrets) Bytes(data []byte) []byte {
	if s == nil {
		return data
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.values {
		if bytes.Contains(data, []byte(v)) {
			data = bytes.ReplaceAll(data, []byte(v), []byte(Mask))
		}
	}
	return data
}

// Map returns a copy of m with every value's secrets replaced.
func (s *Secrets) Map(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[s.String(k)] = s.String(v)
	}
	return out
}

// Writer returns a writer that hides secrets in each Write before passing
// it on. Loggers write whole lines, so a secret is never split across two
// writes of one.
func (s *Secrets) Writer(w io.Writer) io.Writer { return &writer{s: s, w: w} }

type writer struct {
	s *Secrets
	w io.Writer
}

// Unwrap returns the writer written to (whether it is a terminal, say).
func (w *writer) Unwrap() io.Writer { return w.w }

func (w *writer) Write(p []byte) (int, error) {
	if _, err := w.w.Write(w.s.Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Error wraps err so that its message hides the secrets; nil stays nil.
func (s *Secrets) Error(err error) error {
	if err == nil || s == nil {
		return err
	}
	msg := err.Error()
	if red := s.String(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
