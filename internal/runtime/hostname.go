//go:build linux

package runtime

import (
	"fmt"

	"github.com/reinstall-dev/reinstall/internal/safefs"
)

// maxHostname is HOST_NAME_MAX: sethostname(2) refuses longer names.
const maxHostname = 64

// CheckHostname accepts what sethostname(2) and /etc/hostname can hold
// (preflight checks a config's HOSTNAME with it, before anything changes):
// 1-64 bytes of letters, digits, '-', '.' and '_'.
func CheckHostname(h string) error {
	if h == "" || len(h) > maxHostname {
		return fmt.Errorf("hostname %q: must be 1-%d characters", h, maxHostname)
	}
	for _, c := range []byte(h) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return fmt.Errorf("hostname %q: invalid character %q", h, c)
		}
	}
	return nil
}

// writeHostnameFile writes hostname to <private>/etc/hostname as vzctl does
// before a start. The private area is untrusted (contract §6): safefs opens
// etc beneath it without following any symlink (a symlinked etc fails), and
// replaces etc/hostname by a temporary file renamed over it, so a symlink
// there is replaced, never followed.
func writeHostnameFile(private, hostname string) error {
	if err := safefs.WriteFileBeneath(private, "etc/hostname", []byte(hostname+"\n"), 0o644, false); err != nil {
		return fmt.Errorf("write hostname: %w", err)
	}
	return nil
}
