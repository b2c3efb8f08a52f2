package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// TestInit is a fast container init for tests: it reaps children, stops at
// once on SIGTERM, and keeps running otherwise.
const TestInit = `#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 1 & wait $!; done
`

// BuildRootfs lays out a tiny but complete busybox OS in dir: applets as
// symlinks, /sbin/init, inittab, passwd and group, and /sbin/test-init (TestInit).
func BuildRootfs(dir, hostname string) error {
	if _, err := os.Stat(BusyboxPath); err != nil {
		return fmt.Errorf("busybox template: %w (install busybox-static)", err)
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "proc", "sys", "dev", "tmp", "root", "var/log", "run", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	data, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("busybox --list-full: %w", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		link := filepath.Join(dir, applet)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", link); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":       "root:x:0:\nnogroup:x:65534:\n",
		"etc/shadow":      "root:*:19000:0:99999:7:::\n",
		"etc/hostname":    hostname + "\n",
		"etc/os-release":  "NAME=\"Busybox\"\nID=busybox\nVERSION_ID=1.35\n",
		"etc/inittab":     "::sysinit:/etc/init.d/rcS\n::respawn:/bin/sleep 3600\n::shutdown:/bin/true\n",
		"etc/init.d/rcS":  "#!/bin/sh\nmkdir -p /run /var/log\n",
		"sbin/test-init":  TestInit,
		"etc/motd":        "fresh busybox template\n",
		"root/.profile":   "export PS1='# '\n",
		"var/log/install": "installed from template\n",
	}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "etc/init.d/") || strings.HasPrefix(name, "sbin/") {
			mode = 0o755
		}
		if name == "etc/shadow" {
			mode = 0o640
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
	return nil
}

// Compressions lists the template cache suffixes in the contract's order.
var Compressions = []string{".tar", ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2"}

// PackTemplate writes rootfs as <cacheDir>/<name><suffix> with GNU tar
// (numeric owners, xattrs) and returns the file's path.
func PackTemplate(rootfs, cacheDir, name, suffix string) (string, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(cacheDir, name+suffix)
	args := []string{"--numeric-owner", "--xattrs", "--xattrs-include=*", "-cpf", out}
	switch suffix {
	case ".tar":
	case ".tar.gz":
		args = append([]string{"-z"}, args...)
	case ".tar.zst":
		args = append([]string{"--zstd"}, args...)
	case ".tar.xz":
		args = append([]string{"-J"}, args...)
	case ".tar.bz2":
		args = append([]string{"-j"}, args...)
	default:
		return "", fmt.Errorf("unknown template suffix %q", suffix)
	}
	args = append(args, "-C", rootfs, ".")
	if b, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("tar %v: %w: %s", args, err, b)
	}
	return out, nil
}
