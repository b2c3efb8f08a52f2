package vz

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LXC is the container catalog of an LXC host: container NAME is
// <Path>/NAME/config, its private area the "dir:" rootfs of that config.
// LXC names its containers, so each name gets a number standing for it as
// a CTID inside the process (ID); files and messages use the name (Label).
type LXC struct {
	Path  string         // the lxcpath, a real host path (LXC knows nothing of --root)
	ids   map[string]int // name -> its number
	names map[int]string // number -> name
}

// LXC files the tool owns, in the container's directory beside LXC's config:
// settings LXC would reject in its config (OSTEMPLATE), our lock and journal.
const (
	LXCSettingsFile = "reinstall.conf"
	lxcLockFile     = "reinstall.lck"
	lxcJournalFile  = "reinstall.journal"
)

// UseLXC makes the host's containers those of the lxcpath dir: names resolve
// to <dir>/NAME/config; templates, logs and the hooks stay under --root.
func (h *Host) UseLXC(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("lxcpath %q: must be an absolute path", dir)
	}
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("lxcpath: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("lxcpath %s: not a directory", dir)
	}
	h.LXC = &LXC{Path: filepath.Clean(dir), ids: map[string]int{}, names: map[int]string{}}
	return nil
}

// Label is how files and messages name container ctid: its LXC name, else
// the decimal CTID.
func (h *Host) Label(ctid int) string {
	if name, ok := h.LXCName(ctid); ok {
		return name
	}
	return strconv.Itoa(ctid)
}

// LXCName is the LXC name standing behind ctid, if it is one.
func (h *Host) LXCName(ctid int) (string, bool) {
	if h == nil || h.LXC == nil {
		return "", false
	}
	name, ok := h.LXC.names[ctid]
	return name, ok
}

// LXCID is the number standing for the LXC container name in this process
// (a hash of the name, moved on past a collision).
func (h *Host) LXCID(name string) int {
	l := h.LXC
	if id, ok := l.ids[name]; ok {
		return id
	}
	f := fnv.New32a()
	f.Write([]byte(name))
	id := int(f.Sum32()%uint32(MaxCTID)) + 1
	for {
		if _, taken := l.names[id]; !taken {
			break
		}
		id = id%MaxCTID + 1
	}
	l.ids[name], l.names[id] = id, name
	return id
}

// ValidateLXCName accepts what LXC and our file names both take:
// [A-Za-z0-9][A-Za-z0-9._+-]*, at most 255 bytes.
func ValidateLXCName(s string) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("%w %.20q: must be 1..%d bytes", ErrInvalidName, s, maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) || isDigit(c) || i > 0 && strings.ContainsRune("._+-", rune(c)) {
			continue
		}
		return fmt.Errorf("%w %q: character %q not allowed (letters, digits, then '.', '_', '+', '-')", ErrInvalidName, s, c)
	}
	return nil
}

// resolveLXC turns an LXC container name into its number; the container
// must have a config in the lxcpath.
func (h *Host) resolveLXC(arg string) (int, string, error) {
	if err := ValidateLXCName(arg); err != nil {
		return 0, "", err
	}
	conf := h.lxcConfigPath(arg)
	st, err := os.Lstat(conf)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", fmt.Errorf("%w %q: no LXC container (%s does not exist)", ErrUnknownContainer, arg, conf)
	}
	if err != nil {
		return 0, "", fmt.Errorf("LXC container %q: %w", arg, err)
	}
	if !st.Mode().IsRegular() {
		return 0, "", fmt.Errorf("LXC container %q: %s is not a regular file", arg, conf)
	}
	return h.LXCID(arg), arg, nil
}

func (h *Host) lxcDir(name string) string        { return filepath.Join(h.LXC.Path, name) }
func (h *Host) lxcConfigPath(name string) string { return filepath.Join(h.lxcDir(name), "config") }

// lxcFile is the path of one of the tool's files in the container's directory.
func (h *Host) lxcFile(ctid int, file string) (string, bool) {
	name, ok := h.LXCName(ctid)
	if !ok {
		return "", false
	}
	return filepath.Join(h.lxcDir(name), file), true
}

// loadLXC reads an LXC container: its rootfs (a "dir:" or plain path: the
// private area), lxc.uts.name (the hostname), lxc.init.cmd (the init) and
// the tool's own settings file (OSTEMPLATE, remembered from a -t).
func (h *Host) loadLXC(ctid int, name string) (*Container, error) {
	conf := h.lxcConfigPath(name)
	lxcKeys, err := readLXCConfig(conf)
	if err != nil {
		return nil, err
	}
	settings := filepath.Join(h.lxcDir(name), LXCSettingsFile)
	cfg, err := LoadConfig(settings)
	if errors.Is(err, fs.ErrNotExist) {
		cfg, err = &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	keys := map[string]string{"TEMPLATE": DefaultTemplate, "LOCKDIR": DefaultLockDir, "INIT": DefaultInit}
	maps.Copy(keys, h.Global.Keys())
	maps.Copy(keys, cfg.Keys())
	rootfs := lxcKeys["lxc.rootfs.path"]
	private, ok := strings.CutPrefix(rootfs, "dir:")
	switch {
	case rootfs == "":
		return nil, fmt.Errorf("%s: no lxc.rootfs.path: the container would run on the host's own root", conf)
	case !ok && !strings.HasPrefix(rootfs, "/"):
		return nil, fmt.Errorf("%s: lxc.rootfs.path = %s: only a directory rootfs (dir:PATH) can be reinstalled", conf, rootfs)
	}
	if err := checkAreaValue(conf, "lxc.rootfs.path", private); err != nil {
		return nil, err
	}
	if init := strings.Fields(lxcKeys["lxc.init.cmd"]); len(init) > 0 {
		keys["INIT"] = init[0]
	}
	keys["VE_PRIVATE"], keys["HOSTNAME"] = private, lxcKeys["lxc.uts.name"]
	ct := &Container{
		ID:         ctid,
		LXC:        true,
		Name:       name,
		ConfigPath: settings,
		Config:     cfg,
		Private:    filepath.Clean(private),
		OSTemplate: keys["OSTEMPLATE"],
		Hostname:   keys["HOSTNAME"],
		Init:       keys["INIT"],
		Keys:       keys,
	}
	for _, key := range []string{"OSTEMPLATE", "HOSTNAME", "INIT"} {
		if err := checkPlainValue(conf, key, keys[key]); err != nil {
			return nil, err
		}
	}
	return ct, nil
}

// readLXCConfig reads the "key = value" lines of an LXC config; a value in
// double quotes loses them, a later key wins. lxc.include is not followed.
func readLXCConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		keys[strings.TrimSpace(k)] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// checkLXCIsolation: the rootfs must lie inside neither the lxcpath itself
// nor the container's own directory as a whole (where its config, lock and
// journal live), nor the host's vz directories.
func (h *Host) checkLXCIsolation(ct *Container) error {
	lxcDirs := map[string]string{"the lxcpath": h.LXC.Path, "the container's LXC directory": h.lxcDir(ct.Name)}
	for _, what := range slices.Sorted(maps.Keys(lxcDirs)) {
		if d := lxcDirs[what]; nested(d, ct.Private) {
			return fmt.Errorf("%w: the rootfs %s of LXC container %s holds %s %s", ErrAreaOverlap, ct.Private, ct.Name, what, d)
		}
	}
	hostDirs := map[string]string{"the vz configuration directory": h.Path("/etc/vz"), "LOCKDIR": h.LockDir, "TEMPLATE": h.TemplateDir}
	for _, what := range slices.Sorted(maps.Keys(hostDirs)) {
		if d := hostDirs[what]; overlaps(ct.Private, d) {
			return fmt.Errorf("%w: the rootfs %s of LXC container %s and %s %s", ErrAreaOverlap, ct.Private, ct.Name, what, d)
		}
	}
	return nil
}
