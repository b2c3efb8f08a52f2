//go:build linux

package slots

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// DirName is the slots' directory in LOCKDIR.
const DirName = "reinstall.slots"

// pollEvery is how often a waiting run tries the slots again.
const pollEvery = 250 * time.Millisecond

// Slot is a held slot, until Release. The kernel drops the flock if the
// process dies, so a killed run never keeps its slot.
type Slot struct {
	f *os.File
}

// Acquire takes one of limit slots in <lockDir>/reinstall.slots, waiting
// while all are held; waiting is called once, when the first try finds
// none free. It fails only for a slot file it cannot open, or when ctx ends.
func Acquire(ctx context.Context, lockDir string, limit int, waiting func()) (*Slot, error) {
	if limit < 1 {
		return nil, fmt.Errorf("slots: limit %d", limit)
	}
	dir := filepath.Join(lockDir, DirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("slots: %w", err)
	}
	told := false
	for {
		for i := 1; i <= limit; i++ {
			s, err := try(filepath.Join(dir, "slot-"+strconv.Itoa(i)))
			if s != nil || err != nil {
				return s, err
			}
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// try takes the slot file if no process holds it: nil, nil if one does.
func try(path string) (*Slot, error) {
	f, err := vz.OpenStateFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("slots: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("slots: %s: %w", path, err)
	}
	return &Slot{f: f}, nil
}

// Release frees the slot.
func (s *Slot) Release() {
	if s != nil && s.f != nil {
		s.f.Close()
		s.f = nil
	}
}
