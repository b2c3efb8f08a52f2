package start

import (
	"context"
	"fmt"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// defaultTimeout bounds a start whose pipeline sets no timeout.
const defaultTimeout = 10 * time.Minute

// Describe says what the start stage would do (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	return sdk.Description{Actions: []string{fmt.Sprintf("starts the container from %s (hostname %q)", rc.Private, rc.Hostname)}}, nil
}
