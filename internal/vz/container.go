package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrUnknownContainer: no <CTID>.conf, or no such name.
var ErrUnknownContainer = errors.New("unknown container")

// Container is one container's configuration, vz.conf merged under <CTID>.conf.
type Container struct {
	ID         int
	Name       string            // NAME key
	ConfigPath string            // host path of <CTID>.conf
	Config     *Config           // the container file itself, for rewriting
	Private    string            // host path of VE_PRIVATE
	Root       string            // host path of VE_ROOT
	OSTemplate string            // OSTEMPLATE, as written
	Hostname   string            // HOSTNAME
	Init       string            // INIT, default /sbin/init
	Keys       map[string]string // defaults, then vz.conf, then <CTID>.conf; $VEID substituted
}

// LoadContainer reads <CTID>.conf over vz.conf (contract §1). VE_ROOT and
// VE_PRIVATE default to /vz/root/$VEID and /vz/private/$VEID, must be
// absolute and not "/", and come back as host paths with the root applied.
// A missing config file is an error wrapping ErrUnknownContainer.
func (h *Host) LoadContainer(ctid int) (*Container, error) {
	if err := CheckCTID(ctid); err != nil {
		return nil, err
	}
	path := h.ConfigPath(ctid)
	cfg, err := LoadConfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %d: %w", ErrUnknownContainer, ctid, err)
	}
	if err != nil {
		return nil, err
	}
	keys := map[string]string{
		"VE_ROOT":    DefaultVERoot,
		"VE_PRIVATE": DefaultVEPrivate,
		"TEMPLATE":   DefaultTemplate,
		"LOCKDIR":    DefaultLockDir,
		"INIT":       DefaultInit,
	}
	maps.Copy(keys, h.Global.Keys())
	maps.Copy(keys, cfg.Keys())
	for k, v := range keys {
		keys[k] = SubstVEID(v, ctid)
	}
	ct := &Container{
		ID:         ctid,
		Name:       keys["NAME"],
		ConfigPath: path,
		Config:     cfg,
		OSTemplate: keys["OSTEMPLATE"],
		Hostname:   keys["HOSTNAME"],
		Init:       keys["INIT"],
		Keys:       keys,
	}
	if ct.Private, err = h.areaPath(path, "VE_PRIVATE", keys["VE_PRIVATE"]); err != nil {
		return nil, err
	}
	if ct.Root, err = h.areaPath(path, "VE_ROOT", keys["VE_ROOT"]); err != nil {
		return nil, err
	}
	return ct, nil
}

// SubstVEID replaces every $VEID and ${VEID} in value by the CTID, as vzctl
// does for VE_ROOT and VE_PRIVATE (also when followed by more letters).
func SubstVEID(value string, ctid int) string {
	id := strconv.Itoa(ctid)
	value = strings.ReplaceAll(value, "${VEID}", id)
	return strings.ReplaceAll(value, "$VEID", id)
}

// areaPath checks a VE_PRIVATE/VE_ROOT value and returns its host path. The
// host's own "/" is refused: a swap or a deletion there would wreck the host.
func (h *Host) areaPath(conf, key, value string) (string, error) {
	if !filepath.IsAbs(value) {
		return "", fmt.Errorf("%s: %s=%q: must be an absolute path", conf, key, value)
	}
	if filepath.Clean(value) == "/" {
		return "", fmt.Errorf("%s: %s=%q: must not be the root directory", conf, key, value)
	}
	return h.Path(value), nil
}
