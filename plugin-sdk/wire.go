package sdk

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// The wire form of text that may hold any byte. The SDK's Go types keep
// such text in strings, which hold any byte; the protocol carries it as
// bytes (a proto3 string must be UTF-8, and one byte that is not would fail
// the whole message). Every message is built and read through convert.go,
// events.go and these helpers, on both ends.

// wire is text as the protocol carries it.
func wire(s string) []byte { return []byte(s) }

// wireList is a list of texts as the protocol carries it.
func wireList(list []string) [][]byte {
	if list == nil {
		return nil
	}
	out := make([][]byte, len(list))
	for i, s := range list {
		out[i] = []byte(s)
	}
	return out
}

// textList is a list of texts read from the protocol.
func textList(list [][]byte) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, b := range list {
		out[i] = string(b)
	}
	return out
}

// entriesToProto is a map as the protocol carries it, in key order.
func entriesToProto(m map[string]string) []*stagev1.Entry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*stagev1.Entry, len(keys))
	for i, k := range keys {
		out[i] = &stagev1.Entry{Key: []byte(k), Value: []byte(m[k])}
	}
	return out
}

// entriesFromProto is a map read from the protocol, never nil; of a key
// sent twice, the last value counts (as with a protobuf map).
func entriesFromProto(entries []*stagev1.Entry) map[string]string {
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[string(e.GetKey())] = string(e.GetValue())
	}
	return out
}

// statusError is a gRPC error whose message is msg, with every byte that
// is no UTF-8 shown as \xNN: gRPC replaces such a byte in a status message
// with U+FFFD, so it would be lost (never fail: the message is a header).
func statusError(code codes.Code, msg string) error {
	return status.Error(code, EscapeInvalidUTF8(msg))
}

// EscapeInvalidUTF8 is s with every byte that is not part of valid UTF-8
// written as \xNN (é in Latin-1, the byte 0xe9, becomes `\xe9`); valid
// text, control characters included, is unchanged. It is how text that may
// hold any byte is shown where only UTF-8 fits, such as a JSON string.
func EscapeInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[0])
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}
