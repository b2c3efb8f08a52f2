package sdktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// envBroken makes the test binary, started as a plugin, serve a plugin
// broken in the named way; envConformanceOf makes TestConformanceOf check
// the named binary.
const (
	envBroken        = "SDKTEST_BROKEN"
	envConformanceOf = "SDKTEST_CONFORMANCE_OF"
)

// serveTestPlugin serves the greeter, broken as asked.
func serveTestPlugin(broken string) {
	p := testPlugin()
	switch broken {
	case "stdout":
		fmt.Println("starting greeter")
	case "reserved":
		p.Stages[sdk.KindConfigure] = reservedStage{}
	case "strict-validate":
		p.Stages[sdk.KindConfigure] = strictStage{}
	case "exit-in-run":
		p.Stages[sdk.KindConfigure] = exitingStage{}
	}
	sdk.Serve(p)
}

// reservedStage declares an attribute named like a host meta-argument.
type reservedStage struct{ greetStage }

func (reservedStage) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{{Name: "timeout", Type: "string"}}}
}

// strictStage reports unknown values as errors.
type strictStage struct{ greetStage }

func (strictStage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	if !cfg.IsKnown("name") {
		return sdk.Diagnostics{{Summary: "name is required", Attribute: "name"}}
	}
	return nil
}

// exitingStage's process dies during Run.
type exitingStage struct{ greetStage }

func (exitingStage) Run(context.Context, *sdk.RunRequest) (*sdk.Result, error) {
	os.Exit(3)
	return nil, nil
}

// TestConformanceFailsOnBrokenPlugins runs Conformance, in a child test
// process, against plugins broken in each way it must catch.
func TestConformanceFailsOnBrokenPlugins(t *testing.T) {
	tests := []struct {
		broken, file, want string
	}{
		{broken: "stdout", want: `first stdout line is "starting greeter\n", want the go-plugin handshake`},
		{broken: "reserved", want: `attribute "timeout": reserved for the host's meta-arguments`},
		{broken: "strict-validate", want: "with every attribute unknown reported errors"},
		{broken: "exit-in-run", want: "Run(configure): "},
		{broken: "misnamed", file: FilePrefix + "welcomer", want: `GetInfo name "greeter" does not match the file name reinstall-plugin-welcomer`},
	}
	for _, tt := range tests {
		t.Run(tt.broken, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = FilePrefix + "greeter"
			}
			bin := filepath.Join(t.TempDir(), file)
			script := fmt.Sprintf("#!/bin/sh\nexec env %s=%s %s \"$@\"\n", envBroken, tt.broken, os.Args[0])
			if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceOf$", "-test.v")
			cmd.Env = append(os.Environ(), envConformanceOf+"="+bin)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("Conformance passed on a plugin broken by %s:\n%s", tt.broken, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("Conformance output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// TestConformanceOf is the child process of TestConformanceFailsOnBrokenPlugins.
func TestConformanceOf(t *testing.T) {
	bin := os.Getenv(envConformanceOf)
	if bin == "" {
		t.Skip("run by TestConformanceFailsOnBrokenPlugins")
	}
	Conformance(t, bin, greetCase)
}
