package containers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	"github.com/reinstall-dev/reinstall/internal/templates"
	"github.com/reinstall-dev/reinstall/internal/testenv"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

// newHost lays out a demo host with the busybox template and opens it.
func newHost(t *testing.T) (*testenv.Host, *vz.Host) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (the template holds devices and owners)")
	}
	env, err := testenv.NewHost(t.TempDir())
	must(t, err)
	h, err := vz.OpenHost(env.Root)
	must(t, err)
	return env, h
}

func TestCreateWritesConfigAreaAndName(t *testing.T) {
	env, h := newHost(t)
	made, err := Create(context.Background(), h, Spec{CTID: 101, OSTemplate: testenv.DefaultTemplate, Hostname: "web", Name: "web1"})
	must(t, err)

	ct, err := h.LoadContainer(101)
	must(t, err)
	got := map[string]string{"OSTEMPLATE": ct.OSTemplate, "HOSTNAME": ct.Hostname, "NAME": ct.Name, "private": made.Private}
	want := map[string]string{"OSTEMPLATE": testenv.DefaultTemplate, "HOSTNAME": "web", "NAME": "web1", "private": env.Path("vz/private/101")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created container (-want +got):\n%s", diff)
	}
	if made.Method != templates.MethodUntar && made.Method != templates.MethodClone {
		t.Errorf("method %q", made.Method)
	}
	// The area is exactly the template's content.
	ref := t.TempDir()
	_, err = safefs.Untar(context.Background(), made.Template, ref, nil)
	must(t, err)
	if diff := cmp.Diff(hashTree(t, ref), hashTree(t, made.Private)); diff != "" {
		t.Errorf("private area differs from the template (-template +area):\n%s", diff)
	}
	if _, err := os.Lstat(made.Private + ".create"); !os.IsNotExist(err) {
		t.Errorf("%s.create left behind (%v)", made.Private, err)
	}
	link, err := os.Readlink(env.Path("etc/vz/names/web1"))
	if err != nil || link != "/etc/vz/conf/101.conf" {
		t.Errorf("name link = %q, %v; want /etc/vz/conf/101.conf", link, err)
	}
	if ctid, _, err := h.Resolve("web1"); err != nil || ctid != 101 {
		t.Errorf("Resolve(web1) = %d, %v; want 101", ctid, err)
	}
}

func TestCreateFailedUnpackLeavesNoArea(t *testing.T) {
	env, h := newHost(t)
	// A template cut off halfway: extraction writes some entries, then fails.
	good, err := h.FindTemplate(testenv.DefaultTemplate)
	must(t, err)
	data, err := os.ReadFile(good)
	must(t, err)
	must(t, os.WriteFile(env.Path("vz/template/cache/cut.tar.zst"), data[:len(data)/2], 0o644))

	_, err = Create(context.Background(), h, Spec{CTID: 102, OSTemplate: "cut", Cache: templates.CacheOff})
	if err == nil {
		t.Fatal("Create from a truncated template succeeded")
	}
	for _, p := range []string{"vz/private/102", "vz/private/102.create"} {
		if _, err := os.Lstat(env.Path(p)); !os.IsNotExist(err) {
			t.Errorf("%s exists after the failed create (%v)", p, err)
		}
	}
}

func TestCreateRefusesAnExistingPrivateArea(t *testing.T) {
	env, h := newHost(t)
	marker := env.Path("vz/private/103/etc/keep")
	must(t, os.MkdirAll(filepath.Dir(marker), 0o755))
	must(t, os.WriteFile(marker, []byte("mine\n"), 0o644))

	_, err := Create(context.Background(), h, Spec{CTID: 103, OSTemplate: testenv.DefaultTemplate})
	if err == nil || !strings.Contains(err.Error(), "already has a private area") {
		t.Fatalf("Create over an existing area: %v; want a refusal", err)
	}
	if data, err := os.ReadFile(marker); err != nil || string(data) != "mine\n" {
		t.Errorf("the existing area was touched: %q, %v", data, err)
	}
	if _, err := os.Lstat(env.Path("vz/private/103.create")); !os.IsNotExist(err) {
		t.Errorf("103.create exists after the refusal (%v)", err)
	}
}

func TestCreateRefusesABadName(t *testing.T) {
	env, h := newHost(t)
	if _, err := Create(context.Background(), h, Spec{CTID: 104, OSTemplate: testenv.DefaultTemplate, Name: "../x"}); err == nil {
		t.Fatal("Create accepted the name ../x")
	}
	if _, err := os.Lstat(env.Path("etc/vz/conf/104.conf")); !os.IsNotExist(err) {
		t.Errorf("a config was written for a refused name (%v)", err)
	}
}

func hashTree(t *testing.T, dir string) testenv.Tree {
	t.Helper()
	tree, err := testenv.HashTree(dir)
	must(t, err)
	return tree
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
