package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/templates"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// Spec is the container Create makes.
type Spec struct {
	CTID       int
	OSTemplate string // the template's name, found in $TEMPLATE/cache
	Hostname   string // optional
	Name       string // optional: linked as /etc/vz/names/<Name>
	// Cache is the template cache mode (templates.CacheAuto when empty).
	Cache string
}

// Created is what Create made.
type Created struct {
	CTID     int
	Template string // the template archive unpacked
	Private  string // the new private area
	Method   string // templates.MethodUntar or templates.MethodClone
}

// Create writes <CTID>.conf (keeping what an existing one holds) with
// OSTEMPLATE, HOSTNAME and NAME set, unpacks the template into
// <VE_PRIVATE>.create and renames that into place when complete, then links
// the name. It holds the container's lock throughout and refuses a container
// that already has a private area; a failed unpack leaves no .create behind.
func Create(ctx context.Context, h *vz.Host, spec Spec) (*Created, error) {
	if spec.Name != "" {
		if err := vz.ValidateName(spec.Name); err != nil {
			return nil, err
		}
	}
	tmpl, err := h.FindTemplate(spec.OSTemplate)
	if err != nil {
		return nil, err
	}
	ctid := spec.CTID
	// A fresh host (a new --root) has none of vz's directories yet.
	if err := os.MkdirAll(filepath.Dir(h.ConfigPath(ctid)), 0o755); err != nil {
		return nil, err
	}
	lock, err := h.Lock(ctid, "creating")
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	ct, err := writeConfig(h, spec)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(ct.Private); err == nil {
		return nil, fmt.Errorf("container %d already has a private area at %s", ctid, ct.Private)
	}
	method, err := unpackArea(ctx, tmpl, ct.Private, spec.Cache)
	if err != nil {
		return nil, fmt.Errorf("create %d: %w", ctid, err)
	}
	if spec.Name != "" {
		if err := linkName(h, spec.Name, ctid); err != nil {
			return nil, fmt.Errorf("create %d: name %s: %w", ctid, spec.Name, err)
		}
	}
	return &Created{CTID: ctid, Template: tmpl, Private: ct.Private, Method: method}, nil
}

// writeConfig sets the spec's keys in <CTID>.conf and loads the container
// with its areas checked (contract §6: not inside another container's area).
func writeConfig(h *vz.Host, spec Spec) (*vz.Container, error) {
	path := h.ConfigPath(spec.CTID)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	conf, err := vz.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	conf.Set("OSTEMPLATE", spec.OSTemplate)
	if spec.Hostname != "" {
		conf.Set("HOSTNAME", spec.Hostname)
	}
	if spec.Name != "" {
		conf.Set("NAME", spec.Name)
	}
	if err := vz.WriteFileAtomic(path, conf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return h.LoadContainerChecked(spec.CTID)
}

// unpackArea fills <private>.create from the template and renames it to
// private; on failure it removes what it built.
func unpackArea(ctx context.Context, tmpl, private, cache string) (string, error) {
	if cache == "" {
		cache = templates.CacheAuto
	}
	building := private + ".create"
	if err := os.MkdirAll(filepath.Dir(private), 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(building, 0o700); err != nil {
		return "", err
	}
	method, _, err := templates.Unpack(ctx, tmpl, building, cache, nil, nil)
	if err == nil {
		err = safefs.Rename(building, private)
	}
	if err != nil {
		_ = safefs.RemoveTree(building)
		return "", err
	}
	return method, nil
}

// linkName points /etc/vz/names/<name> at the container's config.
func linkName(h *vz.Host, name string, ctid int) error {
	link := h.Path("/etc/vz/names/" + name)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Symlink(fmt.Sprintf("/etc/vz/conf/%d.conf", ctid), link)
}
