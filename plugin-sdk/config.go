package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Config is a stage body's decoded attributes.
type Config struct {
	raw     json.RawMessage
	unknown map[string]bool
}

// NewConfig builds a Config from its JSON form and the names of unknown attributes.
func NewConfig(raw []byte, unknown []string) Config {
	c := Config{raw: raw, unknown: map[string]bool{}}
	for _, u := range unknown {
		c.unknown[u] = true
	}
	return c
}

// JSON returns the configuration as a JSON object.
func (c Config) JSON() []byte {
	if len(bytes.TrimSpace(c.raw)) == 0 || bytes.Equal(bytes.TrimSpace(c.raw), []byte("null")) {
		return []byte("{}")
	}
	return c.raw
}

// Decode fills v from the configuration. For a pointer to a struct, each
// attribute goes to the field whose `hcl` tag names it (as SchemaFromStruct
// reads them), else whose `json` tag does, else whose Go name matches it
// case-insensitively; absent and null attributes leave fields untouched.
// Any other v is decoded as plain JSON.
func (c Config) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		if err := json.Unmarshal(c.JSON(), v); err != nil {
			return fmt.Errorf("decode stage config: %w", err)
		}
		return nil
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(c.JSON(), &attrs); err != nil {
		return fmt.Errorf("decode stage config: %w", err)
	}
	fields, err := structFields(rv.Elem().Type())
	if err != nil {
		return fmt.Errorf("decode stage config into %s: %w", rv.Elem().Type(), err)
	}
	for _, f := range fields {
		raw, ok := lookupAttr(attrs, f)
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		dst := rv.Elem().FieldByIndex(f.index).Addr().Interface()
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("decode stage config: attribute %q: %w", f.name, err)
		}
	}
	return nil
}

// lookupAttr finds a field's attribute; only untagged fields match loosely.
func lookupAttr(attrs map[string]json.RawMessage, f structField) (json.RawMessage, bool) {
	if raw, ok := attrs[f.name]; ok {
		return raw, true
	}
	if f.hclTagged {
		return nil, false
	}
	for k, raw := range attrs {
		if strings.EqualFold(k, f.name) {
			return raw, true
		}
	}
	return nil, false
}

// IsKnown reports whether an attribute's value is known (always true in Run).
func (c Config) IsKnown(name string) bool { return !c.unknown[name] }
