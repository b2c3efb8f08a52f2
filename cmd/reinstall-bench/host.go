package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// bench is one benchmark run: a demo host under a temporary --root and the
// rows measured so far.
type bench struct {
	opts    options
	bin     string // the reinstall binary measured
	self    string // this program, re-executed as the provision helper
	work    string // everything this run creates; removed at the end
	root    string
	host    *testenv.Host
	scratch string // trash and copies, on the same file system as the private areas
	started []int  // containers that may be running, stopped at the end
	rows    []Row
	trashN  int
}

const tinyTemplate = testenv.DefaultTemplate

func (b *bench) private(ctid int) string {
	return b.host.Path(fmt.Sprintf("vz/private/%d", ctid))
}

// reinstall runs `reinstall --root ROOT args...`; where names the measurement for the
// peak memory report.
func (b *bench) reinstall(where string, args ...string) (result, error) {
	return runMeasured("reinstall", where, b.bin, append([]string{"--root", b.root, "--stop-timeout", "10s"}, args...)...)
}

// ct runs `reinstall --root ROOT ct args...`.
func (b *bench) ct(args ...string) (result, error) {
	return run(b.bin, append([]string{"--root", b.root, "--stop-timeout", "10s", "ct"}, args...)...)
}

// createContainer writes a config using the fast test init and creates the container
// from tmpl with `ct create`.
func (b *bench) createContainer(ctid int, tmpl string) error {
	body := fmt.Sprintf("# benchmark container\nINIT=%q\n", "/sbin/test-init")
	if err := b.host.WriteConfig(ctid, body); err != nil {
		return err
	}
	_, err := b.ct("create", strconv.Itoa(ctid), "--ostemplate", tmpl, "--hostname", fmt.Sprintf("ct%d.bench", ctid))
	b.started = append(b.started, ctid)
	return err
}

func (b *bench) start(ctid int) error {
	_, err := b.ct("start", strconv.Itoa(ctid))
	return err
}

func (b *bench) stop(ctid int) error {
	_, err := b.ct("stop", strconv.Itoa(ctid))
	return err
}

// dropOld deletes <private>/old, the old area a reinstall kept, so that the next
// repetition starts from the same private area. It works on a running container too.
func (b *bench) dropOld(ctid int) error {
	old := filepath.Join(b.private(ctid), "old")
	if _, err := os.Lstat(old); err != nil {
		return nil
	}
	b.trashN++
	trash := filepath.Join(b.scratch, fmt.Sprintf("trash-%d", b.trashN))
	if err := os.Rename(old, trash); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// restoreOld undoes a default-mode reinstall of a stopped container: the old area,
// kept at <private>/old, becomes the private area again; the new one is deleted.
func (b *bench) restoreOld(ctid int) error {
	private := b.private(ctid)
	b.trashN++
	keep := filepath.Join(b.scratch, fmt.Sprintf("keep-%d", b.trashN))
	if err := os.Rename(filepath.Join(private, "old"), keep); err != nil {
		return err
	}
	if err := os.RemoveAll(private); err != nil {
		return err
	}
	return os.Rename(keep, private)
}

// stageDone matches the CLI's "[1/6] provision "template" done in 213ms" lines.
var stageDone = regexp.MustCompile(`\[\d+/\d+\] (\S+) "[^"]*" done in (\S+)`)

// stageTime is the time a stage kind took according to the run's progress output.
func stageTime(stderr, kind string) (time.Duration, error) {
	for _, m := range stageDone.FindAllStringSubmatch(stderr, -1) {
		if m[1] == kind {
			return time.ParseDuration(m[2])
		}
	}
	return 0, fmt.Errorf("no %q stage in the output:\n%s", kind, lastLines(stderr, 12))
}

// initPID reads the runtime's state file: the pid of the container's init, 0 if none.
func (b *bench) initPID(ctid int) int {
	data, err := os.ReadFile(b.host.Path(fmt.Sprintf("run/reinstall/ct/%d.json", ctid)))
	if err != nil {
		return 0
	}
	var st struct {
		InitPID int `json:"init_pid"`
	}
	if json.Unmarshal(data, &st) != nil {
		return 0
	}
	return st.InitPID
}

// plainRestart is the downtime of the container's own clean stop and start
// (ct stop, ct start), the baseline a reinstall --stop is measured against.
func (b *bench) plainRestart(ctid int, id string) (time.Duration, error) {
	return b.downtime(ctid, func() error {
		if _, err := b.ct("stop", id); err != nil {
			return err
		}
		_, err := b.ct("start", id)
		return err
	})
}

// downtime runs action against the running container ctid and measures, from outside,
// the time from its init's exit to a new init running (the runtime writes the state
// file once the init runs).
func (b *bench) downtime(ctid int, action func() error) (time.Duration, error) {
	old := b.initPID(ctid)
	if old == 0 {
		return 0, fmt.Errorf("container %d is not running", ctid)
	}
	pidfd, err := unix.PidfdOpen(old, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd_open %d: %w", old, err)
	}
	defer unix.Close(pidfd)
	done := make(chan error, 1)
	go func() { done <- action() }()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 60_000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			<-done
			return 0, fmt.Errorf("container %d: the init did not stop (%v)", ctid, err)
		}
		break
	}
	down := time.Now()
	deadline := down.Add(60 * time.Second)
	for {
		if pid := b.initPID(ctid); pid != 0 && pid != old {
			up := time.Now()
			return up.Sub(down), <-done
		}
		select {
		case err := <-done:
			if pid := b.initPID(ctid); pid != 0 && pid != old {
				return time.Since(down), err
			}
			if err == nil {
				err = fmt.Errorf("container %d did not come back", ctid)
			}
			return 0, err
		case <-time.After(500 * time.Microsecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("container %d did not come back within a minute", ctid)
		}
	}
}
