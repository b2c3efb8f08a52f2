package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Hostile private areas (contract §6): fixtures of what a broken or
// compromised container may leave in its private area to make a host-side
// tool read, write or delete host files. They aim at Canaries (canaries.go),
// which tell whether it did.

// Trick is one hostile private area: Plant turns an ordinary private area
// (a template) into it, aimed at the canaries.
type Trick struct {
	Name  string
	Plant func(area string, c *Canaries) error
	// Large marks fixtures too slow to build and compare in every mode.
	Large bool
}

// HostileTricks lists the fixtures of contract §6, one per trick.
func HostileTricks() []Trick {
	return []Trick{
		{Name: "symlinked-old-etc-root", Plant: plantHostSymlinks},
		{Name: "relative-escapes", Plant: plantRelativeEscapes},
		{Name: "symlink-loops", Plant: plantLoops},
		{Name: "symlinked-files", Plant: plantFileSymlinks},
		{Name: "fifos", Plant: plantFifos},
		{Name: "device-nodes", Plant: plantDevices},
		{Name: "crafted-names", Plant: plantNames},
		{Name: "hard-links", Plant: plantHardLinks},
		{Name: "deep-tree", Plant: plantDeepTree},
		{Name: "100k-entries", Plant: plantManyEntries, Large: true},
	}
}

// plantHostSymlinks: old, etc and root are symlinks to the host's (absolute
// paths), so a tool writing etc/hostname, placing /old or reading
// root/.ssh would land on the host.
func plantHostSymlinks(area string, c *Canaries) error {
	return replaceWithSymlinks(area, map[string]string{
		"old":  c.Path("old"),
		"etc":  c.Path("etc"),
		"root": c.Path("root"),
		"bin":  c.Path("bin"),
	})
}

// plantRelativeEscapes: the same through "../" chains that climb out of the area.
func plantRelativeEscapes(area string, c *Canaries) error {
	up, err := filepath.Rel(area, c.Dir)
	if err != nil {
		return err
	}
	return replaceWithSymlinks(area, map[string]string{
		"old":                 filepath.Join(up, "old"),
		"etc":                 filepath.Join(up, "etc"),
		"root":                strings.Repeat("../", 40) + strings.TrimPrefix(c.Path("root"), "/"),
		"home/escape":         filepath.Join("..", up, "home/victim"),
		"var/log/install.log": filepath.Join("../..", up, "victim"),
	})
}

// plantLoops: symlinks that resolve forever, directories that contain
// themselves, a symlink full of "..", and magic links (/proc/…) out of the area.
func plantLoops(area string, c *Canaries) error {
	if err := os.MkdirAll(filepath.Join(area, "loops/a"), 0o755); err != nil {
		return err
	}
	return replaceWithSymlinks(area, map[string]string{
		"loop1":        "loop2",
		"loop2":        "loop1",
		"old":          "old",
		"etc/hostname": "hostname",
		"etc/self":     ".",
		"loops/a/up":   "..",
		"loops/a/host": c.Dir + "/etc/../root/../old",
		"loops/proc":   "/proc/1/root" + c.Dir,
		"root":         "/proc/self/root" + c.Path("root"),
	})
}

// plantFileSymlinks: real directories, but the files a tool reads or writes
// in them (etc/hostname at start, credentials, the shell probed for
// vps.configure) are symlinks to the host's, and a directory on the way to a
// deeper file is one too.
func plantFileSymlinks(area string, c *Canaries) error {
	for _, d := range []string{"etc", "root", "bin", "usr/share"} {
		if err := os.MkdirAll(filepath.Join(area, d), 0o755); err != nil {
			return err
		}
	}
	return replaceWithSymlinks(area, map[string]string{
		"etc/hostname": c.Path("etc/hostname"),
		"etc/passwd":   c.Path("etc/passwd"),
		"etc/shadow":   c.Path("etc/shadow"),
		"etc/group":    c.Path("etc/group"),
		"root/.ssh":    c.Path("root/.ssh"),
		"bin/bash":     c.Path("bin/bash"),
		"usr/share":    c.Path("etc"),
		"sbin/init":    c.Path("victim"),
	})
}

// plantFifos: fifos where a tool expects files, so an open would block.
func plantFifos(area string, _ *Canaries) error {
	for _, rel := range []string{"etc/hostname", "etc/passwd", "old", "bin/bash", "dev/initctl", "home/fifo"} {
		p := filepath.Join(area, rel)
		if err := replaceEntry(p); err != nil {
			return err
		}
		if err := unix.Mkfifo(p, 0o644); err != nil {
			return fmt.Errorf("mkfifo %s: %w", p, err)
		}
	}
	return nil
}

// plantDevices: device nodes where a tool expects files. The numbers are
// harmless (null, zero, full, an unlikely loop minor) in case a bug opens one.
func plantDevices(area string, _ *Canaries) error {
	nodes := []struct {
		rel          string
		kind         uint32
		major, minor uint32
	}{
		{"etc/hostname", unix.S_IFCHR, 1, 3},
		{"etc/shadow", unix.S_IFCHR, 1, 7},
		{"old", unix.S_IFCHR, 1, 5},
		{"bin/bash", unix.S_IFBLK, 7, 250},
		{"dev/sdz", unix.S_IFBLK, 7, 251},
	}
	for _, n := range nodes {
		p := filepath.Join(area, n.rel)
		if err := replaceEntry(p); err != nil {
			return err
		}
		if err := unix.Mknod(p, n.kind|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
	}
	return nil
}

// plantNames: names with newlines, carriage returns, escape sequences,
// invalid UTF-8, leading dashes, glob characters and the longest allowed,
// some shaped like the names the tool uses ("old\n", "etc\n").
func plantNames(area string, c *Canaries) error {
	dir := filepath.Join(area, "names")
	if err := os.MkdirAll(filepath.Join(dir, "new\nline dir"), 0o755); err != nil {
		return err
	}
	files := []string{
		"new\nline", "old\n", "etc\n", "\nold", "car\rriage", "esc\x1b[2Jape", "bad \xff\xfe utf8",
		"\xc0\xaf", "-rf", "--no-preserve-root", "*", "?", "[a]", `back\slash`, "...", " ", "tab\t",
		strings.Repeat("L", 255), "new\nline dir/inner\n\xff",
	}
	for _, name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			return fmt.Errorf("create %q: %w", name, err)
		}
	}
	return replaceWithSymlinks(area, map[string]string{
		"names/new\nline dir/old": c.Path("old"),
		"old\n":                   c.Path("old"),
		"etc\n":                   c.Path("etc"),
		"names/\xff\xfe":          c.Path("victim"),
	})
}

// plantHardLinks: hard links to host files (same file system) inside the
// area, where etc/shadow and etc/hostname would be.
func plantHardLinks(area string, c *Canaries) error {
	for _, rel := range []string{"etc/shadow", "etc/hostname", "home/linked"} {
		p := filepath.Join(area, rel)
		if err := replaceEntry(p); err != nil {
			return err
		}
		if err := c.Link("linked", p); err != nil {
			return err
		}
	}
	return nil
}

// DeepTreeLevels is the depth of the deep-tree fixture.
const DeepTreeLevels = 200

// plantDeepTree: a directory chain 200 levels deep with a file, a fifo and
// symlinks to the host at the bottom.
func plantDeepTree(area string, c *Canaries) error {
	deep := filepath.Join(area, "deep")
	for i := 0; i < DeepTreeLevels; i++ {
		deep = filepath.Join(deep, "d")
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(deep, "bottom"), []byte("x"), 0o644); err != nil {
		return err
	}
	if err := unix.Mkfifo(filepath.Join(deep, "fifo"), 0o644); err != nil {
		return err
	}
	up, err := filepath.Rel(deep, c.Dir)
	if err != nil {
		return err
	}
	for name, target := range map[string]string{"etc": c.Path("etc"), "old": c.Path("old"), "up": up} {
		if err := os.Symlink(target, filepath.Join(deep, name)); err != nil {
			return err
		}
	}
	return nil
}

// ManyEntries is the size of the 100k-entries fixture.
const ManyEntries = 100_000

// plantManyEntries: 100 directories of 1000 entries: empty files, every
// tenth a symlink to a host file, every hundredth a fifo.
func plantManyEntries(area string, c *Canaries) error {
	const dirs = 100
	for d := 0; d < dirs; d++ {
		dir := filepath.Join(area, "many", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		for i := 0; i < ManyEntries/dirs; i++ {
			name := fmt.Sprintf("e%04d", i)
			switch {
			case i%100 == 0:
				err = unix.Mkfifoat(dfd, name, 0o644)
			case i%10 == 0:
				err = unix.Symlinkat(c.Path("victim"), dfd, name)
			default:
				err = unix.Mknodat(dfd, name, unix.S_IFREG|0o644, 0)
			}
			if err != nil {
				unix.Close(dfd)
				return fmt.Errorf("%s/%s: %w", dir, name, err)
			}
		}
		unix.Close(dfd)
	}
	return nil
}

// replaceWithSymlinks removes whatever is at each relative path in area and
// puts a symlink there; parents are created as directories.
func replaceWithSymlinks(area string, links map[string]string) error {
	for rel, target := range links {
		p := filepath.Join(area, rel)
		if err := replaceEntry(p); err != nil {
			return err
		}
		if err := os.Symlink(target, p); err != nil {
			return err
		}
	}
	return nil
}

// replaceEntry makes room for a new entry at p: its parent exists, p does not.
func replaceEntry(p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
