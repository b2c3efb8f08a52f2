package sdk

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// structField is one attribute-carrying field of a configuration struct, as
// read from its `hcl`, `json`, `sensitive` and `description` tags.
type structField struct {
	name      string
	index     []int
	typ       reflect.Type
	hclTagged bool
	// block: the field is a nested block (`hcl:"name,block"`).
	block       bool
	required    bool
	sensitive   bool
	description string
	// defaultTag and enumTag are the `default` and `enum` tags as written.
	defaultTag, enumTag string
}

// structFields lists the attribute fields of struct type t, flattening
// untagged embedded structs. Fields tagged `hcl:"-"` or `json:"-"` and
// unexported fields are left out; hcl labels and remain bodies are reported
// as an error (stage bodies hold attributes and blocks only).
func structFields(t reflect.Type) ([]structField, error) {
	var fields []structField
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		hclTag, hasHCL := sf.Tag.Lookup("hcl")
		if sf.Anonymous && !hasHCL && sf.Type.Kind() == reflect.Struct {
			inner, err := structFields(sf.Type)
			if err != nil {
				return nil, err
			}
			for _, f := range inner {
				f.index = append([]int{i}, f.index...)
				fields = append(fields, f)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f, skip, err := parseField(sf, hclTag, hasHCL)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		if skip {
			continue
		}
		if seen[f.name] {
			return nil, fmt.Errorf("field %s: attribute %q is declared twice", sf.Name, f.name)
		}
		seen[f.name] = true
		f.index = []int{i}
		fields = append(fields, f)
	}
	return fields, nil
}

// parseField reads one field's tags; skip is true for fields that carry no attribute.
func parseField(sf reflect.StructField, hclTag string, hasHCL bool) (f structField, skip bool, err error) {
	f = structField{typ: sf.Type, description: sf.Tag.Get("description"), defaultTag: sf.Tag.Get("default"), enumTag: sf.Tag.Get("enum")}
	if s, ok := sf.Tag.Lookup("sensitive"); ok {
		if f.sensitive, err = strconv.ParseBool(s); err != nil {
			return f, false, fmt.Errorf("sensitive tag %q is not a boolean", s)
		}
	}
	if hasHCL {
		name, kind, _ := strings.Cut(hclTag, ",")
		switch kind {
		case "", "attr":
			f.required = true
		case "optional":
		case "block":
			f.block = true
		default:
			return f, false, fmt.Errorf("hcl tag kind %q is not supported: stage bodies hold attributes and blocks only", kind)
		}
		if name == "-" {
			return f, true, nil
		}
		if name == "" {
			return f, false, fmt.Errorf("hcl tag has no attribute name")
		}
		f.name, f.hclTagged = name, true
		return f, false, nil
	}
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	switch name {
	case "-":
		return f, true, nil
	case "":
		name = sf.Name
	}
	f.name = name
	return f, false, nil
}

// hclType is the HCL type expression for a Go type.
func hclType(t reflect.Type) (string, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return hclType(t.Elem())
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "bool", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number", nil
	case reflect.Slice:
		elem, err := hclType(t.Elem())
		if err != nil {
			return "", err
		}
		return "list(" + elem + ")", nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map key type %s is not string", t.Key())
		}
		elem, err := hclType(t.Elem())
		if err != nil {
			return "", err
		}
		return "map(" + elem + ")", nil
	}
	return "", fmt.Errorf("type %s has no HCL equivalent (use string, number, bool, lists and maps of them)", t)
}
