package sdk

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type licenseServer struct {
	URL  string `hcl:"url"`
	Port int    `hcl:"port,optional" default:"443"`
}

type licenseConfig struct {
	Name    string          `hcl:"name"`
	Server  *licenseServer  `hcl:"server,block" description:"The license server."`
	Mirrors []licenseServer `hcl:"mirror,block"`
}

// TestSchemaBlocks: block-tagged fields become block types (a struct
// pointer: single, a slice: list) with their own attributes, which cross
// the wire unchanged and which Config.Decode fills from the JSON the host
// sends.
func TestSchemaBlocks(t *testing.T) {
	s, err := SchemaFromStruct(licenseConfig{})
	if err != nil {
		t.Fatal(err)
	}
	server := []Attribute{
		{Name: "url", Type: "string", Required: true},
		{Name: "port", Type: "number", Default: int64(443), Whole: true},
	}
	want := Schema{
		Attributes: []Attribute{{Name: "name", Type: "string", Required: true}},
		Blocks: []Block{
			{Name: "server", Nesting: NestingSingle, Attributes: server, Description: "The license server."},
			{Name: "mirror", Nesting: NestingList, Attributes: server},
		},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Fatalf("schema (-want +got):\n%s", d)
	}
	wire := schemaFromProto(schemaToProto(s))
	if got := wire.Blocks; len(got) != 2 || got[0].Name != "server" || got[1].Nesting != NestingList || len(got[1].Attributes) != 2 || !got[1].Attributes[0].Required {
		t.Errorf("blocks changed on the wire: %+v", got)
	}

	var c licenseConfig
	raw := `{"name":"acme","server":{"url":"https://x","port":8443},"mirror":[{"url":"https://a","port":443},{"url":"https://b","port":1}]}`
	if err := NewConfig([]byte(raw), nil).Decode(&c); err != nil {
		t.Fatal(err)
	}
	wantConfig := licenseConfig{
		Name:    "acme",
		Server:  &licenseServer{URL: "https://x", Port: 8443},
		Mirrors: []licenseServer{{URL: "https://a", Port: 443}, {URL: "https://b", Port: 1}},
	}
	if d := cmp.Diff(wantConfig, c); d != "" {
		t.Errorf("decoded config (-want +got):\n%s", d)
	}

	for name, bad := range map[string]any{
		"block inside a block": struct {
			A struct {
				B struct{} `hcl:"b,block"`
			} `hcl:"a,block"`
		}{},
		"sensitive inside a block": struct {
			A struct {
				K string `hcl:"k" sensitive:"true"`
			} `hcl:"a,block"`
		}{},
		"block of a string": struct {
			A string `hcl:"a,block"`
		}{},
	} {
		if _, err := SchemaFromStruct(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
