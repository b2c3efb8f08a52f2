package sdk

import (
	"context"
	"strings"
	"testing"
)

// Against a host that does not announce "old-area", the new file services
// fail before any call: an older host would drop the owner and write a
// root-owned file.
func TestOldAreaServicesNeedTheHostCapability(t *testing.T) {
	h := &hostClient{stage: "vendor"} // no client: a call that reached the host would panic
	ctx := context.Background()
	errs := map[string]error{
		"WriteFileOwned": h.WriteFileOwned(ctx, "/etc/x", nil, 0o640, Owner{UID: 1000, GID: 1000}, false),
	}
	_, errs["ReadOldFile"] = h.ReadOldFile(ctx, "/etc/x")
	_, errs["ListDir"] = h.ListDir(ctx, AreaOld, "/etc")
	for name, err := range errs {
		if err == nil || !strings.Contains(err.Error(), `no "old-area" capability`) {
			t.Errorf("%s: %v, want it refused for the host's missing capability", name, err)
		}
	}
}
