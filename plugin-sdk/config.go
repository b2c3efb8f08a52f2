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
	if err := decodeStruct(c.JSON(), rv.Elem()); err != nil {
		return fmt.Errorf("decode stage config: %w", err)
	}
	return nil
}

// decodeStruct fills struct value dst from a JSON object, field by field;
// block fields are filled the same way from their object or list of them.
func decodeStruct(raw []byte, dst reflect.Value) error {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &attrs); err != nil {
		return err
	}
	fields, err := structFields(dst.Type())
	if err != nil {
		return fmt.Errorf("into %s: %w", dst.Type(), err)
	}
	for _, f := range fields {
		raw, ok := lookupAttr(attrs, f)
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		field := dst.FieldByIndex(f.index)
		if f.block {
			if err := decodeBlock(raw, field); err != nil {
				return fmt.Errorf("block %q: %w", f.name, err)
			}
			continue
		}
		if err := json.Unmarshal(raw, field.Addr().Interface()); err != nil {
			return fmt.Errorf("attribute %q: %w", f.name, err)
		}
	}
	return nil
}

// decodeBlock fills a block field: a struct, a pointer to one, or a slice
// of either, from an object or a list of objects.
func decodeBlock(raw []byte, field reflect.Value) error {
	switch field.Kind() {
	case reflect.Pointer:
		if field.IsNil() {
			field.Set(reflect.New(field.Type().Elem()))
		}
		return decodeBlock(raw, field.Elem())
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		list := reflect.MakeSlice(field.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeBlock(item, list.Index(i)); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		field.Set(list)
		return nil
	case reflect.Struct:
		return decodeStruct(raw, field)
	}
	return fmt.Errorf("a block field is a struct, a pointer to one or a slice of them, not %s", field.Type())
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
