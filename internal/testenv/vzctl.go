package testenv

import (
	"os"
	"testing"
)

// VzctlDefault is where scripts/vzctl-real.sh caches the real vzctl it builds.
const VzctlDefault = "/var/cache/reinstall-test/vzctl/prefix/sbin/vzctl"

// RealVzctl returns the real vzctl binary ($REINSTALL_VZCTL, else
// VzctlDefault). Without it the test is skipped, except when
// $REINSTALL_VZCTL or CI is set (scripts/test.sh builds it and sets the
// former), where it fails.
func RealVzctl(t testing.TB) string {
	t.Helper()
	p := os.Getenv("REINSTALL_VZCTL")
	required := p != "" || os.Getenv("CI") != ""
	if p == "" {
		p = VzctlDefault
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p
	}
	if required {
		t.Fatalf("the real vzctl %s is missing: run scripts/vzctl-real.sh (scripts/test.sh does)", p)
	}
	t.Skipf("no real vzctl at %s: run scripts/vzctl-real.sh", p)
	return ""
}
