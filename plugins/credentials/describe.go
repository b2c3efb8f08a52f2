package credentials

import (
	"context"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says what the merge would do (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	if req.Context.Options.ResetPwDB {
		return sdk.Description{Actions: []string{"--resetpwdb: keeps the template's accounts"}}, nil
	}
	return sdk.Description{Actions: []string{"merges the old /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow into the new container's"}}, nil
}
