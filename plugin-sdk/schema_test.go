package sdk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSchemaFromStruct(t *testing.T) {
	type Embedded struct {
		Extra string `hcl:"extra,optional"`
	}
	type full struct {
		Embedded
		Script  string            `hcl:"script" description:"Path of the script."`
		Retries int               `hcl:"retries,optional"`
		Ratio   float64           `hcl:"ratio,optional"`
		Verbose bool              `hcl:"verbose,optional"`
		Args    []string          `hcl:"args,optional"`
		Env     map[string]string `hcl:"env,optional"`
		Key     *string           `hcl:"key,optional" sensitive:"true"`
		Attr    string            `hcl:"attr,attr"`
		Ignored string            `hcl:"-"`
		Plain   string            `json:"plain"`
		hidden  string
	}
	_ = full{}.hidden
	tests := []struct {
		name    string
		in      any
		want    Schema
		wantErr string
	}{
		{name: "every type", in: &full{}, want: Schema{Attributes: []Attribute{
			{Name: "extra", Type: "string"},
			{Name: "script", Type: "string", Required: true, Description: "Path of the script."},
			{Name: "retries", Type: "number", Whole: true},
			{Name: "ratio", Type: "number"},
			{Name: "verbose", Type: "bool"},
			{Name: "args", Type: "list(string)"},
			{Name: "env", Type: "map(string)"},
			{Name: "key", Type: "string", Sensitive: true},
			{Name: "attr", Type: "string", Required: true},
		}}},
		{name: "value, not pointer", in: struct {
			N uint8 `hcl:"n"`
		}{}, want: Schema{Attributes: []Attribute{{Name: "n", Type: "number", Required: true, Whole: true}}}},
		{name: "empty struct", in: struct{}{}, want: Schema{}},
		{name: "not a struct", in: 3, wantErr: "not a struct"},
		{name: "nil", in: nil, wantErr: "not a struct"},
		{name: "label", in: struct {
			B string `hcl:"b,label"`
		}{}, wantErr: `hcl tag kind "label" is not supported`},
		{name: "unsupported type", in: struct {
			C chan int `hcl:"c"`
		}{}, wantErr: `attribute "c": type chan int has no HCL equivalent`},
		{name: "int-keyed map", in: struct {
			M map[int]string `hcl:"m"`
		}{}, wantErr: "map key type int is not string"},
		{name: "duplicate", in: struct {
			A string `hcl:"a"`
			B string `hcl:"a,optional"`
		}{}, wantErr: `attribute "a" is declared twice`},
		{name: "bad sensitive", in: struct {
			A string `hcl:"a" sensitive:"yes please"`
		}{}, wantErr: "not a boolean"},
		{name: "no name", in: struct {
			A string `hcl:",optional"`
		}{}, wantErr: "no attribute name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SchemaFromStruct(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SchemaFromStruct() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SchemaFromStruct() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SchemaFromStruct() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMustSchemaFromStructPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustSchemaFromStruct(3) did not panic")
		}
	}()
	MustSchemaFromStruct(3)
}

// TestSchemaTags: default and enum tags fill the attribute; a default on a
// required attribute, outside the enum or of the wrong type, and an enum on
// a non-string are errors of the struct.
func TestSchemaTags(t *testing.T) {
	s, err := SchemaFromStruct(struct {
		Cache string `hcl:"cache,optional" enum:"auto,off" default:"auto"`
		Tries int    `hcl:"tries,optional" default:"3"`
		Quiet bool   `hcl:"quiet,optional" default:"true"`
	}{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Attribute{
		{Name: "cache", Type: "string", Default: "auto", Enum: []string{"auto", "off"}},
		{Name: "tries", Type: "number", Default: int64(3), Whole: true},
		{Name: "quiet", Type: "bool", Default: true},
	}
	if d := cmp.Diff(want, s.Attributes); d != "" {
		t.Errorf("attributes (-want +got):\n%s", d)
	}
	for name, bad := range map[string]any{
		"required with a default": struct {
			A string `hcl:"a" default:"x"`
		}{},
		"default outside the enum": struct {
			A string `hcl:"a,optional" enum:"x,y" default:"z"`
		}{},
		"default of the wrong type": struct {
			A int `hcl:"a,optional" default:"many"`
		}{},
		"enum on a number": struct {
			A int `hcl:"a,optional" enum:"1,2"`
		}{},
	} {
		if _, err := SchemaFromStruct(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
