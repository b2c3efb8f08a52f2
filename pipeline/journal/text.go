package journal

import (
	"reflect"
	"strings"
	"unicode/utf8"
)

// A record's text may hold any byte: a path, a config value or a plugin's
// step data that is no UTF-8 (a Latin-1 file name). A JSON string holds
// UTF-8 only, and encoding/json would replace such a byte with U+FFFD, so
// recovery would act on another path than the run did. Every string of a
// record (its fields, its maps' keys and values, its header's run context)
// is written through escapeText and read back through unescapeText, which
// keep every byte: a byte that is no UTF-8 is written as one of the last
// 128 code points of Unicode (U+10FF80 + the byte - 0x80, in a private use
// plane), as is each byte of such a code point the text itself holds.
// UTF-8 text without them, all there is in practice, is written unchanged.

// escapeBase + b is the code point standing for the byte b (0x80-0xff).
const escapeBase = 0x10FF00

// escaped tells a code point that stands for a byte.
func escaped(r rune) bool { return r >= escapeBase+0x80 && r <= utf8.MaxRune }

func escapeText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, escaped) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 || escaped(r) {
			for i := range size {
				b.WriteRune(escapeBase + rune(s[i]))
			}
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

func unescapeText(s string) string {
	if !strings.ContainsFunc(s, escaped) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if escaped(r) {
			b.WriteByte(byte(r - escapeBase))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// withText is a copy of r with every string passed through f; byte
// slices (raw JSON, the pipeline's source) are kept as they are.
func withText(r Record, f func(string) string) Record {
	return mapText(reflect.ValueOf(r), f).Interface().(Record)
}

func mapText(v reflect.Value, f func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(f(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(mapText(v.Elem(), f))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(mapText(v.Field(i), f))
			}
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(mapText(it.Key(), f), mapText(it.Value(), f))
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(mapText(v.Index(i), f))
		}
		return out
	}
	return v
}
