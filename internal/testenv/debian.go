package testenv

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// DebianTemplateName is the name real-OS tests give the Debian 12 systemd
// template in a test host's cache.
const DebianTemplateName = "debian-12-systemd-x86_64"

// DebianTemplateDefault is where scripts/debian-template.sh caches it.
const DebianTemplateDefault = "/var/cache/reinstall-test/debian-12-systemd-x86_64.tar.zst"

// DebianTemplate returns the real Debian 12 systemd template
// ($REINSTALL_DEBIAN_TEMPLATE, else DebianTemplateDefault). Without it the
// test is skipped, except when $REINSTALL_DEBIAN_TEMPLATE or CI is set
// (scripts/test.sh builds it and sets the former), where it fails.
func DebianTemplate(t testing.TB) string {
	t.Helper()
	p := os.Getenv("REINSTALL_DEBIAN_TEMPLATE")
	required := p != "" || os.Getenv("CI") != ""
	if p == "" {
		p = DebianTemplateDefault
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	if required {
		t.Fatalf("the Debian template %s is missing: run scripts/debian-template.sh (scripts/test.sh does)", p)
	}
	t.Skipf("no Debian template at %s: run scripts/debian-template.sh", p)
	return ""
}

// AddDebianTemplate puts the Debian template into the host's cache as
// DebianTemplateName (a hard link when it can, else a copy) and returns the
// name.
func (h *Host) AddDebianTemplate(t testing.TB) string {
	t.Helper()
	src := DebianTemplate(t)
	dst := h.Path("vz/template/cache/" + DebianTemplateName + ".tar.zst")
	if err := os.Link(src, dst); err == nil {
		return DebianTemplateName
	}
	if err := copyFile(src, dst); err != nil {
		t.Fatal(err)
	}
	return DebianTemplateName
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
