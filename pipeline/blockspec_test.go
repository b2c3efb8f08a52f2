package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestStageBlocks decodes stage bodies whose plugin schema declares a single
// block and a list block: the plugin receives an object and a list of
// objects, with the blocks' defaults applied; an unknown attribute in a
// block or a block missing a required attribute is an error pointing into
// the file.
func TestStageBlocks(t *testing.T) {
	type server struct {
		URL  string `hcl:"url"`
		Port int    `hcl:"port,optional" default:"443"`
	}
	type cfg struct {
		Product string   `hcl:"product,optional"`
		Server  *server  `hcl:"server,block"`
		Mirrors []server `hcl:"mirror,block"`
	}
	schema, err := sdk.SchemaFromStruct(cfg{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := StageSpec("acme-license", schema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		body       string
		wantConfig string
		wantErr    string // the diagnostic's summary and detail, in part
		wantAt     string // its subject's start, line:col
	}{
		{
			name:       "single block",
			body:       "server {\n  url = \"https://x\"\n  port = 8443\n}",
			wantConfig: `{"mirror":[],"product":null,"server":{"port":8443,"url":"https://x"}}`,
		},
		{
			name:       "list of blocks",
			body:       "mirror { url = \"https://a\" }\nmirror {\n url = \"https://b\"\n port = 80\n}",
			wantConfig: `{"mirror":[{"port":443,"url":"https://a"},{"port":80,"url":"https://b"}],"product":null,"server":null}`,
		},
		{
			name:    "unknown attribute in a block",
			body:    "server {\n  url = \"https://x\"\n  prot = 1\n}",
			wantErr: `Unsupported argument: An argument named "prot" is not expected here. Did you mean "port"?`,
			wantAt:  "5:3",
		},
		{
			name:    "stage attribute written in a block",
			body:    "server {\n  url = \"https://x\"\n  producer = 1\n}",
			wantErr: `Unsupported argument: An argument named "producer" is not expected here.`,
			wantAt:  "5:3",
		},
		{
			name:    "missing required attribute",
			body:    "mirror {\n  port = 1\n}",
			wantErr: `Missing required argument: The argument "url" is required`,
			wantAt:  "3:8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "stage \"configure\" \"license\" {\n  plugin = \"acme-license\"\n" + tt.body + "\n}\n"
			f, diags := hclsyntax.ParseConfig([]byte(src), "p.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			s, diags := decodeStage(f.Body.(*hclsyntax.Body).Blocks[0].AsHCLBlock())
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := DecodeBody(s, spec, &hcl.EvalContext{})
			if tt.wantErr != "" {
				if len(diags) != 1 || !strings.Contains(diags[0].Summary+": "+diags[0].Detail, tt.wantErr) || diags[0].Subject == nil {
					t.Fatalf("diagnostics %v; want one with %q", diags, tt.wantErr)
				}
				if strings.Contains(diags[0].Detail, `"product"`) {
					t.Errorf("detail %q suggests the stage's attribute inside a block", diags[0].Detail)
				}
				r := diags[0].Subject
				if at := fmt.Sprintf("%d:%d", r.Start.Line, r.Start.Column); r.Filename != "p.hcl" || at != tt.wantAt {
					t.Errorf("diagnostic at %s:%s, want p.hcl:%s", r.Filename, at, tt.wantAt)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := cmp.Diff(tt.wantConfig, string(got.Config)); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
		})
	}
}
