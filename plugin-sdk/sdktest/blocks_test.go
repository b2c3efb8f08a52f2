package sdktest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

type licenseServer struct {
	URL  string `hcl:"url" json:"url"`
	Port int    `hcl:"port,optional" json:"port" default:"443"`
}

type licenseConfig struct {
	Server  *licenseServer  `hcl:"server,block" json:"server"`
	Mirrors []licenseServer `hcl:"mirror,block" json:"mirror"`
}

// licenseStage returns the blocks it decoded as its "seen" output.
type licenseStage struct{}

func (licenseStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(licenseConfig{}) }

func (licenseStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (licenseStage) Run(_ context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c licenseConfig
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	seen, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: map[string]string{"seen": string(seen)}}, nil
}

// TestBlocksReachTheStage: the client serves a block schema over the wire
// and sends block configurations as the host does, with the blocks'
// defaults filled in and a list block left out as an empty list.
func TestBlocksReachTheStage(t *testing.T) {
	c := Serve(t, &sdk.Plugin{Name: "acme-license", Version: "1.0.0", Stages: map[string]sdk.Stage{sdk.KindConfigure: licenseStage{}}})
	s := c.Schema(sdk.KindConfigure)
	if b, ok := s.Block("mirror"); !ok || b.Nesting != sdk.NestingList || len(b.Attributes) != 2 {
		t.Fatalf("mirror block = %+v, %v", b, ok)
	}
	tests := []struct {
		config, want string
	}{
		{`{"server":{"url":"https://x"}}`, `{"server":{"url":"https://x","port":443},"mirror":[]}`},
		{`{"mirror":[{"url":"https://a"},{"url":"https://b","port":80}]}`, `{"server":null,"mirror":[{"url":"https://a","port":443},{"url":"https://b","port":80}]}`},
	}
	for _, tt := range tests {
		out := c.Run(sdk.KindConfigure, []byte(tt.config), sdk.RunContext{})
		if out.Failure != "" {
			t.Fatalf("Run(%s) failed: %s", tt.config, out.Failure)
		}
		if d := cmp.Diff(tt.want, out.Result.Outputs["seen"]); d != "" {
			t.Errorf("Run(%s) saw (-want +got):\n%s", tt.config, d)
		}
	}
}
