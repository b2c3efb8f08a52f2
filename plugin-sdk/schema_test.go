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
			{Name: "retries", Type: "number"},
			{Name: "ratio", Type: "number"},
			{Name: "verbose", Type: "bool"},
			{Name: "args", Type: "list(string)"},
			{Name: "env", Type: "map(string)"},
			{Name: "key", Type: "string", Sensitive: true},
			{Name: "attr", Type: "string", Required: true},
		}}},
		{name: "value, not pointer", in: struct {
			N uint8 `hcl:"n"`
		}{}, want: Schema{Attributes: []Attribute{{Name: "n", Type: "number", Required: true}}}},
		{name: "empty struct", in: struct{}{}, want: Schema{}},
		{name: "not a struct", in: 3, wantErr: "not a struct"},
		{name: "nil", in: nil, wantErr: "not a struct"},
		{name: "block", in: struct {
			B struct{} `hcl:"b,block"`
		}{}, wantErr: `hcl tag kind "block" is not supported`},
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
