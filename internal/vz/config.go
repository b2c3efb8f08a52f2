package vz

import (
	"bytes"
	"fmt"
	"strings"
)

// Config is a shell-like KEY=value file kept line by line so a rewrite preserves
// comments, blank lines, unknown keys and raw values like $VEID byte-for-byte.
// Values are stored raw: no $VEID substitution happens here (see SubstVEID).
type Config struct {
	lines []configLine
	// noFinalNewline records a source whose last line lacked "\n", so Bytes
	// reproduces it exactly until something is appended.
	noFinalNewline bool
}

// configLine is one source line. For a KEY=value line, key and value are set
// and tail holds whatever followed the value (spaces and a "# comment").
type configLine struct {
	raw   string
	key   string
	value string
	tail  string
}

// SyntaxError is a line ParseConfig could not read. LoadConfig prefixes it
// with the file name: "/etc/vz/conf/101.conf: line 3: missing '='".
type SyntaxError struct {
	Line int // 1-based
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseConfig reads KEY=value, KEY="value" and KEY='value' lines, blank lines
// and '#' comment lines. One pair of surrounding quotes is stripped and a
// "# comment" may follow a quoted value (or an unquoted one after a space).
// The last duplicate of a key wins. A bad line is a *SyntaxError.
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{}
	text := string(data)
	if text == "" {
		return c, nil
	}
	if strings.HasSuffix(text, "\n") {
		text = strings.TrimSuffix(text, "\n")
	} else {
		c.noFinalNewline = true
	}
	for i, raw := range strings.Split(text, "\n") {
		l, err := parseLine(raw)
		if err != nil {
			return nil, &SyntaxError{Line: i + 1, Msg: err.Error()}
		}
		c.lines = append(c.lines, l)
	}
	return c, nil
}

// LoadConfig reads and parses the file at path; errors name the file.
// A missing file is an error wrapping fs.ErrNotExist; a FIFO, a device or a
// directory is a *NotRegularError (ReadConfigFile), never waited on.
func LoadConfig(path string) (*Config, error) {
	data, err := ReadConfigFile(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Get returns the raw value of the last occurrence of key.
func (c *Config) Get(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	if i := c.last(key); i >= 0 {
		return c.lines[i].value, true
	}
	return "", false
}

// Keys returns every key with its raw value (the last duplicate wins).
func (c *Config) Keys() map[string]string {
	m := make(map[string]string)
	if c == nil {
		return m
	}
	for _, l := range c.lines {
		if l.key != "" {
			m[l.key] = l.value
		}
	}
	return m
}

// Set rewrites the last occurrence of key in place as KEY="value" (keeping a
// trailing comment on that line), or appends KEY="value". Every other line is
// untouched, and so is the key's own line when its value is already value.
// key must be a valid name and value must fit on one line (use CheckValue on
// untrusted input); anything else is a programming error and panics.
func (c *Config) Set(key, value string) {
	if !validKey(key) {
		panic(fmt.Sprintf("vz: Config.Set: invalid key %q", key))
	}
	if err := CheckValue(value); err != nil {
		panic(fmt.Sprintf("vz: Config.Set %s: %v", key, err))
	}
	i := c.last(key)
	if i < 0 {
		c.lines = append(c.lines, configLine{raw: key + "=" + quoteValue(value), key: key, value: value})
		c.noFinalNewline = false
		return
	}
	l := &c.lines[i]
	if l.value == value {
		return
	}
	l.value = value
	l.raw = key + "=" + quoteValue(value) + l.tail
}

// Bytes returns the file content: the source lines as read, with Set's changes.
func (c *Config) Bytes() []byte {
	var b bytes.Buffer
	for i, l := range c.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.raw)
	}
	if len(c.lines) > 0 && !c.noFinalNewline {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// CheckValue reports whether Set can write value so that ParseConfig reads it
// back unchanged: no newline or NUL, and not both kinds of quote.
func CheckValue(value string) error {
	switch {
	case strings.ContainsAny(value, "\n\r\x00"):
		return fmt.Errorf("value %q contains a line break or NUL", value)
	case strings.Contains(value, `"`) && strings.Contains(value, `'`):
		return fmt.Errorf("value %q contains both kinds of quote", value)
	}
	return nil
}

func (c *Config) last(key string) int {
	for i := len(c.lines) - 1; i >= 0; i-- {
		if c.lines[i].key == key {
			return i
		}
	}
	return -1
}

// quoteValue writes "value" like vzctl does, or 'value' when value holds a
// double quote (the parser knows no escapes).
func quoteValue(value string) string {
	if strings.Contains(value, `"`) {
		return "'" + value + "'"
	}
	return `"` + value + `"`
}

func parseLine(raw string) (configLine, error) {
	l := configLine{raw: raw}
	s := strings.TrimLeft(raw, " \t")
	if strings.TrimRight(s, " \t\r") == "" || s[0] == '#' {
		return l, nil
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return l, fmt.Errorf("missing '=' in %q", raw)
	}
	key := s[:eq]
	if !validKey(key) {
		return l, fmt.Errorf("invalid key %q", key)
	}
	value, tail, err := parseValue(s[eq+1:])
	if err != nil {
		return l, fmt.Errorf("%s: %w", key, err)
	}
	l.key, l.value, l.tail = key, value, tail
	return l, nil
}

// parseValue splits what follows '=' into the value and its tail (trailing
// blanks and comment). Quoted values end at the matching quote; unquoted
// ones at the line's end or at a '#' preceded by a blank, as in sh.
func parseValue(s string) (value, tail string, err error) {
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		end := strings.IndexByte(s[1:], s[0])
		if end < 0 {
			return "", "", fmt.Errorf("unterminated %c quote", s[0])
		}
		value, tail = s[1:1+end], s[2+end:]
		if rest := strings.TrimLeft(tail, " \t\r"); rest != "" && rest[0] != '#' {
			return "", "", fmt.Errorf("unexpected %q after the closing quote", rest)
		}
		return value, tail, nil
	}
	end := len(s)
	for i := 1; i < len(s); i++ {
		if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
			end = i
			break
		}
	}
	value = strings.TrimRight(s[:end], " \t\r")
	return value, s[len(value):], nil
}

// validKey reports whether key is a shell variable name.
func validKey(key string) bool {
	if key == "" {
		return false
	}
	for i, r := range key {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
