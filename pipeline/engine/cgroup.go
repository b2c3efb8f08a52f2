package engine

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runCgroup is the per-run cgroup every plugin process starts in, so that
// cgroup.kill ends all of them, and whatever they started, after a crash.
type runCgroup struct{ dir string }

// cgroup2Mount finds where the unified hierarchy is mounted (hybrid hosts
// mount it at /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup).
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4], nil
			}
		}
	}
	return "", errors.New("no cgroup2 file system mounted")
}

// newRunCgroup creates <cgroup2>/reinstall/<runID>.
func newRunCgroup(runID string) (*runCgroup, error) {
	base, err := cgroup2Mount()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "reinstall", runID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run cgroup: %w", err)
	}
	return &runCgroup{dir: dir}, nil
}

// kill ends every process in the cgroup and removes it.
func (c *runCgroup) kill() error {
	if c == nil || c.dir == "" {
		return nil
	}
	return killCgroup(c.dir)
}

// killCgroup ends every process of a run's cgroup and removes it; a missing
// cgroup is fine.
func killCgroup(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kill cgroup %s: %w", dir, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
