package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
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
	LXC        bool              // an LXC container: ID only stands for Name in the process
}

// Label is how messages name the container: its LXC name, else its CTID.
func (ct *Container) Label() string {
	if ct.LXC {
		return ct.Name
	}
	return strconv.Itoa(ct.ID)
}

// CheckKnown tells whether ctid names a container of this host, without
// reading or writing anything else: its <CTID>.conf exists (an LXC
// container, resolved by name, is known). An unknown one is an error
// wrapping ErrUnknownContainer, for a command to refuse before it leaves a
// trace (a log, a lock directory).
func (h *Host) CheckKnown(ctid int) error {
	if _, ok := h.LXCName(ctid); ok {
		return nil
	}
	path := h.ConfigPath(ctid)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w %d: %s does not exist", ErrUnknownContainer, ctid, path)
	} else if err != nil {
		return fmt.Errorf("container %d: %w", ctid, err)
	}
	return nil
}

// LoadContainer reads <CTID>.conf over vz.conf (contract §1). VE_ROOT and
// VE_PRIVATE default to /vz/root/$VEID and /vz/private/$VEID, must be
// absolute, not "/", apart from each other, free of "..", "$" (but $VEID)
// and control characters, and come back as host paths with the root
// applied; OSTEMPLATE, HOSTNAME, NAME and INIT hold no control characters.
// A missing config file is an error wrapping ErrUnknownContainer.
func (h *Host) LoadContainer(ctid int) (*Container, error) {
	if name, ok := h.LXCName(ctid); ok {
		return h.loadLXC(ctid, name)
	}
	ct, err := h.loadAreas(ctid)
	if err != nil {
		return nil, err
	}
	// contract §6: the runtime creates VE_ROOT with mkdir -p on the host, which
	// inside the private area would follow the container's own symlinks.
	if overlaps(ct.Private, ct.Root) {
		return nil, fmt.Errorf("%s: %w: VE_PRIVATE %s and VE_ROOT %s must be apart", ct.ConfigPath, ErrAreaOverlap, ct.Private, ct.Root)
	}
	for _, key := range []string{"OSTEMPLATE", "HOSTNAME", "NAME", "INIT"} {
		if err := checkPlainValue(ct.ConfigPath, key, ct.Keys[key]); err != nil {
			return nil, err
		}
	}
	return ct, nil
}

// loadAreas reads <CTID>.conf over vz.conf and checks only VE_PRIVATE and
// VE_ROOT (checkAreaValue): enough to know where the container's areas are.
func (h *Host) loadAreas(ctid int) (*Container, error) {
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

// areaPath checks a VE_PRIVATE/VE_ROOT value (checkAreaValue) and returns its
// host path. The host's own "/" is refused: a swap or a deletion there would
// wreck the host.
func (h *Host) areaPath(conf, key, value string) (string, error) {
	if err := checkAreaValue(conf, key, value); err != nil {
		return "", err
	}
	return h.Path(value), nil
}
