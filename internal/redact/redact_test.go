package redact

import (
	"bytes"
	"errors"
	"testing"
)

func TestSecretsHideEveryKnownValue(t *testing.T) {
	s := &Secrets{}
	s.Add("hunter2-token", "hunter2", "", "ab", "  ")
	tests := []struct{ in, want string }{
		{"key=hunter2-token end", "key=(sensitive) end"},
		{"hunter2 and hunter2", "(sensitive) and (sensitive)"},
		{"ab is short, kept", "ab is short, kept"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := s.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(s.Bytes([]byte(tt.in))); got != tt.want {
			t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var buf bytes.Buffer
	if _, err := s.Writer(&buf).Write([]byte("log: hunter2\n")); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "log: (sensitive)\n" {
		t.Errorf("Writer wrote %q", buf.String())
	}
	base := errors.New("failed with hunter2")
	err := s.Error(base)
	if err.Error() != "failed with (sensitive)" || !errors.Is(err, base) {
		t.Errorf("Error() = %q (is base: %v)", err, errors.Is(err, base))
	}
	if got := s.Map(map[string]string{"k": "v=hunter2"}); got["k"] != "v=(sensitive)" {
		t.Errorf("Map = %v", got)
	}
	var none *Secrets
	if none.String("hunter2") != "hunter2" {
		t.Error("a nil set changed text")
	}
}
