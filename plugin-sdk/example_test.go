package sdk_test

import (
	"context"
	"fmt"
	"os"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// motdConfig is a stage body: `message` is required, `mode` optional.
type motdConfig struct {
	Message string `hcl:"message" description:"The text of /etc/motd."`
	Mode    int    `hcl:"mode,optional"`
}

// motdStage writes /etc/motd in the new container.
type motdStage struct{}

func (motdStage) Schema() sdk.Schema { return sdk.MustSchemaFromStruct(motdConfig{}) }

func (motdStage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	var c motdConfig
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: err.Error()}}
	}
	if cfg.IsKnown("message") && c.Message == "" {
		return sdk.Diagnostics{{Attribute: "message", Summary: "Empty message", Detail: "Say something, or leave the stage out."}}
	}
	return nil
}

func (motdStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	c := motdConfig{Mode: 0o644}
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	// Journal first: a rollback, even after a crash, learns what was done.
	if err := req.Host.Journal(ctx, "write-motd", sdk.PhaseBegin, nil); err != nil {
		return nil, err
	}
	if err := req.Host.WriteFile(ctx, "/etc/motd", []byte(c.Message+"\n"), os.FileMode(c.Mode), true); err != nil {
		return nil, err
	}
	req.UI.Log(sdk.LevelInfo, "wrote /etc/motd")
	return &sdk.Result{Outputs: map[string]string{"path": "/etc/motd"}}, nil
}

// A plugin's main serves its stages; this one serves a configure stage.
func Example() {
	sdk.Serve(&sdk.Plugin{
		Name:    "motd",
		Version: "1.0.0",
		Stages:  map[string]sdk.Stage{sdk.KindConfigure: motdStage{}},
	})
}

func ExampleSchemaFromStruct() {
	s, err := sdk.SchemaFromStruct(motdConfig{})
	if err != nil {
		panic(err)
	}
	for _, a := range s.Attributes {
		fmt.Printf("%s %s required=%v\n", a.Name, a.Type, a.Required)
	}
	// Output:
	// message string required=true
	// mode number required=false
}
