package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultTemplate is the OS template name demo hosts use.
const DefaultTemplate = "busybox-1.35-x86_64"

// Host is a demo host under a temporary --root.
type Host struct {
	Root string
}

// NewHost lays out a host under root: /etc/vz/vz.conf with the stock
// defaults, conf/ and names/ directories, and a busybox template cache
// (.tar.zst) named DefaultTemplate.
func NewHost(root string) (*Host, error) {
	h := &Host{Root: root}
	for _, d := range []string{"etc/vz/conf", "etc/vz/names", "vz/private", "vz/root", "vz/lock", "vz/template/cache"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	vzconf := `## Global parameters (demo host)
VE_ROOT=/vz/root/$VEID
VE_PRIVATE=/vz/private/$VEID
TEMPLATE=/vz/template
LOCKDIR=/vz/lock
`
	if err := os.WriteFile(filepath.Join(root, "etc/vz/vz.conf"), []byte(vzconf), 0o644); err != nil {
		return nil, err
	}
	if _, err := h.AddTemplate(DefaultTemplate, ".tar.zst", "template"); err != nil {
		return nil, err
	}
	return h, nil
}

// Path returns a host path under the root.
func (h *Host) Path(p string) string { return filepath.Join(h.Root, p) }

// AddTemplate builds a busybox rootfs whose /etc/hostname says hostname and
// packs it into the template cache as name+suffix.
func (h *Host) AddTemplate(name, suffix, hostname string) (string, error) {
	rootfs, err := os.MkdirTemp(h.Root, ".rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(rootfs)
	if err := BuildRootfs(rootfs, hostname); err != nil {
		return "", err
	}
	return PackTemplate(rootfs, h.Path("vz/template/cache"), name, suffix)
}

// WriteConfig writes /etc/vz/conf/<ctid>.conf with the given body.
func (h *Host) WriteConfig(ctid int, body string) error {
	return os.WriteFile(h.Path(fmt.Sprintf("etc/vz/conf/%d.conf", ctid)), []byte(body), 0o644)
}

// ConfigBody is a typical container config using the test init.
func ConfigBody(hostname string) string {
	return fmt.Sprintf(`# container config
OSTEMPLATE=%q
HOSTNAME=%q
INIT="/sbin/test-init"
`, DefaultTemplate, hostname)
}
