package engine

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// checkLayout refuses a container whose private area is a ploop image
// rather than a directory (simfs): its own config says VE_LAYOUT=ploop, or
// VE_PRIVATE holds root.hdd. (vz.conf's VE_LAYOUT is only the default for
// new containers.)
func checkLayout(ct *vz.Container) error {
	const supported = "only simfs (directory) private areas are supported"
	if layout, _ := ct.Config.Get("VE_LAYOUT"); strings.EqualFold(strings.TrimSpace(layout), "ploop") {
		return refusedBecause(ReasonPloop, "container %s uses a ploop image (VE_LAYOUT=ploop in %s); %s", ct.Label(), ct.ConfigPath, supported)
	}
	image := filepath.Join(ct.Private, "root.hdd")
	if _, err := os.Lstat(image); err == nil {
		return refusedBecause(ReasonPloop, "container %s uses a ploop image (%s); %s", ct.Label(), image, supported)
	}
	return nil
}
