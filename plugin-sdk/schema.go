package sdk

import (
	"fmt"
	"reflect"
)

// SchemaFromStruct derives a stage schema from a configuration struct (or a
// pointer to one). Each field tagged `hcl:"name"` is a required attribute,
// `hcl:"name,optional"` an optional one; `sensitive:"true"` and
// `description:"..."` tags fill the rest. Go types map to HCL types: string,
// integers and floats (number), bool, slices (list) and string-keyed maps (map).
// The same struct is what Config.Decode fills.
func SchemaFromStruct(v any) (Schema, error) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return Schema{}, fmt.Errorf("schema from %T: not a struct", v)
	}
	fields, err := structFields(t)
	if err != nil {
		return Schema{}, fmt.Errorf("schema from %s: %w", t, err)
	}
	var s Schema
	for _, f := range fields {
		if !f.hclTagged {
			continue
		}
		typ, err := hclType(f.typ)
		if err != nil {
			return Schema{}, fmt.Errorf("schema from %s: attribute %q: %w", t, f.name, err)
		}
		s.Attributes = append(s.Attributes, Attribute{
			Name:        f.name,
			Type:        typ,
			Required:    f.required,
			Sensitive:   f.sensitive,
			Description: f.description,
		})
	}
	return s, nil
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
