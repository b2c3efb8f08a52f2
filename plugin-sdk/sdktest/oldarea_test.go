package sdktest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// oldAreaStage copies a file of the old area into the new one, owned by
// 1000:1000 with mode 0640, and returns the old directory's listing.
type oldAreaStage struct{}

func (oldAreaStage) Schema() sdk.Schema                                   { return sdk.Schema{} }
func (oldAreaStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }
func (oldAreaStage) Rollback(context.Context, *sdk.RollbackRequest) error { return nil }

func (oldAreaStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	data, err := req.Host.ReadOldFile(ctx, "/etc/vendor/license")
	if err != nil {
		return nil, err
	}
	entries, err := req.Host.ListDir(ctx, sdk.AreaOld, "/etc")
	if err != nil {
		return nil, err
	}
	var list []string
	for _, e := range entries {
		list = append(list, fmt.Sprintf("%s %s %v %d", e.Name, e.Type, e.Mode, e.Size))
	}
	if err := req.Host.WriteFileOwned(ctx, "/etc/vendor/license", data, 0o640, sdk.Owner{UID: 1000, GID: 1000}, true); err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: map[string]string{"list": strings.Join(list, "; ")}}, nil
}

// TestOldAreaHostServices: ReadOldFile, ListDir and WriteFileOwned cross
// the protocol: the bytes, the listing's names, types, modes and sizes, and
// the owner and mode written.
func TestOldAreaHostServices(t *testing.T) {
	c := Serve(t, &sdk.Plugin{Name: "vendor", Version: "1", Stages: map[string]sdk.Stage{sdk.KindConfigure: oldAreaStage{}}})
	c.Host.PutOldFile("/etc/vendor/license", []byte("key=42\n"), 0o600)
	c.Host.PutOldFile("/etc/hostname", []byte("old\n"), 0o644)
	out := c.Run(sdk.KindConfigure, map[string]any{}, sdk.RunContext{StageName: "vendor"})
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	if diff := cmp.Diff("hostname file -rw-r--r-- 4; vendor dir -rwxr-xr-x 0", out.Result.Outputs["list"]); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	want := File{Data: []byte("key=42\n"), Mode: 0o640, UID: 1000, GID: 1000}
	if diff := cmp.Diff(want, c.Host.Files()["/etc/vendor/license"]); diff != "" {
		t.Errorf("the file written (-want +got):\n%s", diff)
	}
}
