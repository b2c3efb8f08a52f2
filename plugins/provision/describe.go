package provision

import (
	"context"
	"fmt"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says what the provision stage would do (for plan).
func (stage) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	return sdk.Description{
		Creates: []string{rc.PrivateTmp},
		Actions: []string{fmt.Sprintf("unpacks %s into %s (numeric owners, modes, xattrs, hard links, device nodes)", rc.TemplateFile, rc.PrivateTmp)},
	}, nil
}
