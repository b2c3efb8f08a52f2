package sdk

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type decodeTarget struct {
	Script  string            `hcl:"script"`
	Retries int               `hcl:"retries,optional"`
	Ratio   float64           `hcl:"ratio,optional"`
	Verbose bool              `hcl:"verbose,optional"`
	Args    []string          `hcl:"args,optional"`
	Env     map[string]string `hcl:"env,optional"`
	Key     *string           `hcl:"key,optional" sensitive:"true"`
	Legacy  string            `json:"legacy_name"`
	Loose   string
	Skipped string `hcl:"-"`
}

func TestConfigDecode(t *testing.T) {
	key := "s3cret"
	tests := []struct {
		name    string
		raw     string
		start   decodeTarget
		want    decodeTarget
		wantErr string
	}{
		{
			name: "every type by hcl name",
			raw:  `{"script":"/x.sh","retries":3,"ratio":0.5,"verbose":true,"args":["a","b"],"env":{"K":"V"},"key":"s3cret"}`,
			want: decodeTarget{Script: "/x.sh", Retries: 3, Ratio: 0.5, Verbose: true, Args: []string{"a", "b"}, Env: map[string]string{"K": "V"}, Key: &key},
		},
		{name: "json tag fallback", raw: `{"legacy_name":"x"}`, want: decodeTarget{Legacy: "x"}},
		{name: "untagged field by Go name", raw: `{"loose":"y"}`, want: decodeTarget{Loose: "y"}},
		{name: "hcl names are exact", raw: `{"SCRIPT":"/x.sh"}`, want: decodeTarget{}},
		{name: "null and absent keep defaults", raw: `{"script":null}`, start: decodeTarget{Script: "keep", Retries: 7}, want: decodeTarget{Script: "keep", Retries: 7}},
		{name: "skipped field", raw: `{"-":"z","Skipped":"z"}`, want: decodeTarget{}},
		{name: "empty config", raw: ``, want: decodeTarget{}},
		{name: "null config", raw: `null`, want: decodeTarget{}},
		{name: "unknown attributes ignored", raw: `{"other":1}`, want: decodeTarget{}},
		{name: "wrong type", raw: `{"retries":"many"}`, wantErr: `attribute "retries"`},
		{name: "not an object", raw: `[1]`, wantErr: "decode stage config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.start
			err := NewConfig([]byte(tt.raw), nil).Decode(&got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigDecodeNonStruct(t *testing.T) {
	var m map[string]any
	if err := NewConfig([]byte(`{"a":1}`), nil).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"a": 1.0}, m); diff != "" {
		t.Errorf("Decode(map) mismatch (-want +got):\n%s", diff)
	}
}

func TestConfigIsKnown(t *testing.T) {
	c := NewConfig([]byte(`{"a":null}`), []string{"a"})
	if c.IsKnown("a") || !c.IsKnown("b") {
		t.Errorf("IsKnown(a)=%v IsKnown(b)=%v, want false, true", c.IsKnown("a"), c.IsKnown("b"))
	}
}
