package sdk

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestModuleIsPublishable keeps the SDK a module a vendor can `go get` once
// tagged plugin-sdk/v<SDKVersion>: its go.mod replaces nothing (a replace
// is ignored in a dependency and would build differently there) and needs
// nothing of the host's module, and SDKVersion is a semantic version.
func TestModuleIsPublishable(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(data)
	if !strings.HasPrefix(mod, "module github.com/reinstall-dev/reinstall/plugin-sdk\n") {
		t.Errorf("go.mod names another module:\n%s", mod)
	}
	for _, line := range strings.Split(mod, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "replace") {
			t.Errorf("go.mod has %q: a vendor's build ignores it", line)
		}
		if strings.HasPrefix(line, "github.com/reinstall-dev/reinstall ") || strings.HasPrefix(line, "require github.com/reinstall-dev/reinstall ") {
			t.Errorf("go.mod requires the host's module: %q", line)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(SDKVersion) {
		t.Errorf("SDKVersion %q is not MAJOR.MINOR.PATCH", SDKVersion)
	}
}
