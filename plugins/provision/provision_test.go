package provision

import (
	"context"
	"testing"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

func TestValidateCacheMode(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{{`{}`, true}, {`{"cache":"auto"}`, true}, {`{"cache":"off"}`, true}, {`{"cache":"always"}`, true}, {`{"cache":"sometimes"}`, false}, {`{"cache":1}`, false}} {
		diags := stage{}.Validate(context.Background(), sdk.NewConfig([]byte(tt.body), nil))
		if diags.HasErrors() == tt.ok {
			t.Errorf("Validate(%s) = %v, want ok=%v", tt.body, diags, tt.ok)
		}
	}
}

// TestCacheDefaultThroughSDKTest: left out, cache is the schema's default
// ("auto"), as the host decodes it; sdktest fills it in the same way.
func TestCacheDefaultThroughSDKTest(t *testing.T) {
	c := sdktest.Serve(t, Plugin())
	a, ok := c.Schema(sdk.KindProvision).Attribute("cache")
	if !ok || a.Default == nil || len(a.Enum) != 3 {
		t.Fatalf("cache attribute %+v: want a default and three values", a)
	}
	if d := c.Validate(sdk.KindProvision, map[string]any{}); len(d) != 0 {
		t.Errorf("cache left out: %v", d)
	}
}
