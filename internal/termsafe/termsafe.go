package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable is s as it may reach the operator's terminal or log file: a
// stage's lines come from inside the container, and an escape sequence in
// them must not drive the terminal (set its clipboard, move its cursor). A
// control or other non-graphic character but tab is shown escaped (\x1b,
// \u009b, \u202e), as is a byte that is no UTF-8.
func Printable(s string) string {
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

// Writer writes lines through Printable to W, keeping their newlines:
// the host's log, whose lines may quote a plugin's, on the way to the
// terminal or the log file. Each Write is one or more whole lines (hclog
// writes one entry at a time).
type Writer struct{ W io.Writer }

func (p Writer) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.W, Lines(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Lines is s through Printable, line by line, newlines kept.
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Printable(l)
	}
	return strings.Join(lines, "\n")
}
