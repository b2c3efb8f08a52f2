package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// SchemaFromStruct derives a stage schema from a configuration struct (or a
// pointer to one). Each field tagged `hcl:"name"` is a required attribute,
// `hcl:"name,optional"` an optional one; `sensitive:"true"` and
// `description:"..."` tags fill the rest, `default:"..."` gives an optional
// attribute its value when left out and `enum:"a,b,c"` lists the only values
// a string may take. Integer fields are whole numbers: 1.5 is refused. Go types map to HCL types: string,
// integers and floats (number), bool, slices (list) and string-keyed maps (map).
// A field tagged `hcl:"name,block"` is a nested block: a struct (or pointer
// to one) for a single block, a slice of structs for a list of them.
// The same struct is what Config.Decode fills.
func SchemaFromStruct(v any) (Schema, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return Schema{}, fmt.Errorf("schema from %T: not a struct", v)
	}
	var s Schema
	var err error
	if s.Attributes, s.Blocks, err = structSchema(t, true); err != nil {
		return Schema{}, fmt.Errorf("schema from %s: %w", t, err)
	}
	return s, nil
}

// structSchema reads the attributes and blocks of struct type t; top is
// false inside a block, where blocks and sensitive attributes are refused.
func structSchema(t reflect.Type, top bool) ([]Attribute, []Block, error) {
	fields, err := structFields(t)
	if err != nil {
		return nil, nil, err
	}
	var attrs []Attribute
	var blocks []Block
	for _, f := range fields {
		if !f.hclTagged {
			continue
		}
		if f.block {
			if !top {
				return nil, nil, fmt.Errorf("block %q: blocks do not nest inside blocks", f.name)
			}
			b, err := blockFromField(f)
			if err != nil {
				return nil, nil, fmt.Errorf("block %q: %w", f.name, err)
			}
			blocks = append(blocks, b)
			continue
		}
		if f.sensitive && !top {
			return nil, nil, fmt.Errorf("attribute %q: sensitive attributes are not supported inside a block", f.name)
		}
		typ, err := hclType(f.typ)
		if err != nil {
			return nil, nil, fmt.Errorf("attribute %q: %w", f.name, err)
		}
		a := Attribute{
			Name:        f.name,
			Type:        typ,
			Required:    f.required,
			Sensitive:   f.sensitive,
			Description: f.description,
			Whole:       isWhole(f.typ),
		}
		if err := a.fromTags(f.typ, f.defaultTag, f.enumTag); err != nil {
			return nil, nil, fmt.Errorf("attribute %q: %w", f.name, err)
		}
		attrs = append(attrs, a)
	}
	return attrs, blocks, nil
}

// blockFromField is the block type a `hcl:"name,block"` field declares.
func blockFromField(f structField) (Block, error) {
	b := Block{Name: f.name, Description: f.description}
	t := f.typ
	if t.Kind() == reflect.Slice {
		b.Nesting, t = NestingList, t.Elem()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return Block{}, fmt.Errorf("a block field is a struct, a pointer to one or a slice of them, not %s", f.typ)
	}
	attrs, _, err := structSchema(t, false)
	if err != nil {
		return Block{}, err
	}
	b.Attributes = attrs
	return b, nil
}

// MustSchemaFromStruct is SchemaFromStruct for package-level schemas; it
// panics on a malformed struct, which is a programming error.
func MustSchemaFromStruct(v any) Schema {
	s, err := SchemaFromStruct(v)
	if err != nil {
		panic(err)
	}
	return s
}

// Attribute returns the schema's attribute with the given name.
func (s Schema) Attribute(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Block returns the schema's block type with the given name.
func (s Schema) Block(name string) (Block, bool) {
	for _, b := range s.Blocks {
		if b.Name == name {
			return b, true
		}
	}
	return Block{}, false
}

// fromTags reads the default and enum tags of a field of type t.
func (a *Attribute) fromTags(t reflect.Type, def, enum string) error {
	if enum != "" {
		if t.Kind() != reflect.String {
			return fmt.Errorf("an enum is for string attributes, not %s", t)
		}
		a.Enum = strings.Split(enum, ",")
	}
	if def == "" {
		return nil
	}
	if a.Required {
		return fmt.Errorf("a required attribute has no default")
	}
	switch t.Kind() {
	case reflect.String:
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, def) {
			return fmt.Errorf("default %q is not one of %s", def, strings.Join(a.Enum, ", "))
		}
		a.Default = def
	case reflect.Bool:
		b, err := strconv.ParseBool(def)
		if err != nil {
			return fmt.Errorf("default %q is not a boolean", def)
		}
		a.Default = b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseInt(def, 10, 64)
		if err != nil {
			return fmt.Errorf("default %q is not a whole number", def)
		}
		a.Default = n
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(def, 64)
		if err != nil {
			return fmt.Errorf("default %q is not a number", def)
		}
		a.Default = n
	default:
		return fmt.Errorf("a default tag is for strings, numbers and booleans, not %s", t)
	}
	return nil
}

// isWhole reports whether t holds whole numbers only.
func isWhole(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// defaultJSON is the attribute's default as JSON (nil: none).
func (a Attribute) defaultJSON() []byte {
	if a.Default == nil {
		return nil
	}
	b, err := json.Marshal(a.Default)
	if err != nil {
		return nil
	}
	return b
}
