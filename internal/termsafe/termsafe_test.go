package termsafe

import "testing"

// Printable shows every control character but tab, and every byte that is
// no UTF-8, escaped; other text passes as it is.
func TestPrintable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text, tabs\tand ünïcödé ✓ …", "plain text, tabs\tand ünïcödé ✓ …"},
		{"\x1b]52;c;aGVsbG8=\x07", `\x1b]52;c;aGVsbG8=\x07`},
		{"\x1b[2J\r\n\x00\x7f", `\x1b[2J\x0d\x0a\x00\x7f`},
		{"\u009b2J and \u202eevil", `\u009b2J and \u202eevil`},
		{"bad \xff\xfe bytes", `bad \xff\xfe bytes`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
