package copyfromold

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/testenv"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugin-sdk/sdktest"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		paths []string
		want  []string // attribute of each error
	}{
		{[]string{"/home", "/etc/ssh/ssh_host_*", "/root/.ssh"}, nil},
		{[]string{"/home", "home"}, []string{"paths[1]"}},
		{[]string{"/", "/old", "/old/home", "/home/../etc", "/home/"}, []string{"paths[0]", "paths[1]", "paths[2]", "paths[3]", "paths[4]"}},
		{[]string{"/etc/[ssh"}, []string{"paths[0]"}},
	}
	for _, tc := range cases {
		raw, _ := json.Marshal(map[string]any{"paths": tc.paths})
		var got []string
		for _, d := range (stage{}).Validate(context.Background(), sdk.NewConfig(raw, nil)) {
			if !d.Warning {
				got = append(got, d.Attribute)
			}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%v (-want +got):\n%s", tc.paths, d)
		}
	}
	if d := (stage{}).Validate(context.Background(), sdk.NewConfig([]byte(`{"paths":null}`), []string{"paths"})); len(d) != 0 {
		t.Errorf("unknown paths: %v", d)
	}
}

// areas makes an old and a new private area under a temporary directory.
func areas(t *testing.T) (oldArea, newArea string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("copying owners needs root")
	}
	dir := t.TempDir()
	oldArea, newArea = filepath.Join(dir, "old"), filepath.Join(dir, "new")
	for _, d := range []string{oldArea, newArea} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return oldArea, newArea
}

func write(t *testing.T, path, content string, mode os.FileMode, uid int) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
	os.Lchown(path, uid, uid)
}

func hash(t *testing.T, dir string) testenv.Tree {
	t.Helper()
	tree, err := testenv.HashTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestCopyKeepsEverything(t *testing.T) {
	oldArea, newArea := areas(t)
	home := filepath.Join(oldArea, "home/customer")
	write(t, filepath.Join(home, "notes.txt"), "precious\n", 0o640, 1000)
	write(t, filepath.Join(home, "deep/er/file"), "deep\n", 0o600, 1001)
	os.Link(filepath.Join(home, "notes.txt"), filepath.Join(home, "hardlink"))
	os.Symlink("/etc/shadow", filepath.Join(home, "escape"))
	unix.Mkfifo(filepath.Join(home, "fifo"), 0o620)
	unix.Mknod(filepath.Join(home, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
	unix.Lsetxattr(filepath.Join(home, "notes.txt"), "user.origin", []byte("old"), 0)
	os.Chmod(home, 0o710)
	os.Chown(home, 1000, 1000)
	write(t, filepath.Join(oldArea, "etc/ssh/ssh_host_rsa_key"), "rsa\n", 0o600, 0)
	write(t, filepath.Join(oldArea, "etc/ssh/ssh_host_ed25519_key"), "ed\n", 0o600, 0)
	write(t, filepath.Join(oldArea, "etc/ssh/sshd_config"), "old\n", 0o644, 0)
	os.Chmod(filepath.Join(oldArea, "etc/ssh"), 0o711)
	write(t, filepath.Join(oldArea, "old/home/previous-backup"), "nested\n", 0o644, 0)
	// The new area: a template with an empty /home, its own key to replace
	// and a file where the old area has a directory.
	os.MkdirAll(filepath.Join(newArea, "home"), 0o755)
	write(t, filepath.Join(newArea, "etc/ssh/ssh_host_rsa_key"), "template key\n", 0o600, 0)
	write(t, filepath.Join(newArea, "etc/ssh/sshd_config"), "template\n", 0o644, 0)

	cp, err := newCopier(oldArea, newArea)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.close()
	defer unix.Umask(unix.Umask(0))
	var matched []string
	for _, p := range []string{"/home", "/etc/ssh/ssh_host_*", "/*", "/nowhere/*"} {
		m, err := cp.glob(p)
		if err != nil {
			t.Fatal(err)
		}
		matched = append(matched, m...)
	}
	want := []string{"home", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_rsa_key", "etc", "home"}
	if d := cmp.Diff(want, matched); d != "" {
		t.Errorf("matches (-want +got), the area's own old must never match:\n%s", d)
	}
	for _, rel := range []string{"home", "etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_rsa_key"} {
		if err := cp.copyPath(rel); err != nil {
			t.Fatal(err)
		}
	}
	if d := cmp.Diff(hash(t, filepath.Join(oldArea, "home")), hash(t, filepath.Join(newArea, "home"))); d != "" {
		t.Errorf("/home copied (-old +new):\n%s", d)
	}
	var a, b unix.Stat_t
	unix.Lstat(filepath.Join(newArea, "home/customer/notes.txt"), &a)
	unix.Lstat(filepath.Join(newArea, "home/customer/hardlink"), &b)
	if a.Ino != b.Ino {
		t.Error("hard link not kept")
	}
	for file, want := range map[string]string{"etc/ssh/ssh_host_rsa_key": "rsa\n", "etc/ssh/ssh_host_ed25519_key": "ed\n", "etc/ssh/sshd_config": "template\n"} {
		if got, _ := os.ReadFile(filepath.Join(newArea, file)); string(got) != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if target, _ := os.Readlink(filepath.Join(newArea, "home/customer/escape")); target != "/etc/shadow" {
		t.Errorf("symlink copied as %q", target)
	}
	if cp.entries < 8 {
		t.Errorf("%d entries copied", cp.entries)
	}
}

func TestSymlinksOnTheWayAreNotFollowed(t *testing.T) {
	oldArea, newArea := areas(t)
	secret := filepath.Join(filepath.Dir(oldArea), "host-secrets")
	write(t, filepath.Join(secret, "ssh_host_key"), "host secret\n", 0o600, 0)
	os.MkdirAll(filepath.Join(oldArea, "etc"), 0o755)
	os.Symlink(secret, filepath.Join(oldArea, "etc/ssh"))
	cp, err := newCopier(oldArea, newArea)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.close()
	m, err := cp.glob("/etc/ssh/ssh_host_*")
	if err != nil || len(m) != 0 {
		t.Errorf("glob through a symlink: %v, %v", m, err)
	}
	if len(cp.skipped) != 1 || !strings.Contains(cp.skipped[0], "/etc/ssh in the old private area is a symlink: not followed") {
		t.Errorf("skipped: %v", cp.skipped)
	}
	// The new area's own symlink on the way is refused, never written through.
	write(t, filepath.Join(oldArea, "root/.ssh/authorized_keys"), "key\n", 0o600, 0)
	target := filepath.Join(filepath.Dir(oldArea), "host-root")
	os.Mkdir(target, 0o700)
	os.Symlink(target, filepath.Join(newArea, "root"))
	if err := cp.copyPath("root/.ssh"); err == nil || !strings.Contains(err.Error(), "is a symlink or not a directory") {
		t.Errorf("copy through the new area's symlink: %v", err)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("something was written through the symlink: %v", entries)
	}
}

// TestRunFindsTheOldAreaByInode: copy-from-old copies from the directory
// the swap reported by its inode, even after the running container moved
// its /old and left a decoy there; without a swap's report it refuses
// rather than guess from which path exists.
func TestRunFindsTheOldAreaByInode(t *testing.T) {
	_, private := areas(t)
	write(t, filepath.Join(private, "old/etc/hostname"), "the customer's\n", 0o644, 0)
	swap, err := oldarea.OutputsOf(filepath.Join(private, "old"), oldarea.PlacementOld)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(private, "old"), filepath.Join(private, "moved")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(private, "old/etc/hostname"), "a decoy\n", 0o644, 0)
	rc := sdk.RunContext{CTID: 101, Private: private, PrivatePrevious: private + ".previous"}

	c := sdktest.Serve(t, Plugin())
	rc.StageOutputs = map[string]map[string]string{"swap": swap}
	out := c.Run(sdk.KindConfigure, map[string]any{"paths": []string{"/etc/hostname"}}, rc)
	if out.Failure != "" {
		t.Fatalf("Run failed: %s", out.Failure)
	}
	data, err := os.ReadFile(filepath.Join(private, "etc/hostname"))
	if err != nil || string(data) != "the customer's\n" {
		t.Errorf("/etc/hostname = %q, %v; want the old area's, not the decoy's", data, err)
	}

	// A parked area that exists is not taken on its existence alone.
	if err := os.MkdirAll(rc.PrivatePrevious, 0o700); err != nil {
		t.Fatal(err)
	}
	rc.StageOutputs = nil
	out = c.Run(sdk.KindConfigure, map[string]any{"paths": []string{"/etc/hostname"}}, rc)
	if !strings.Contains(out.Failure, "no old private area: no swap stage ran before this stage") {
		t.Errorf("without a swap's report: failure %q", out.Failure)
	}
}
