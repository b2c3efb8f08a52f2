//go:build linux

package requests

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/vz"
)

// MaxIDLength bounds a request id: an automation's key, not a document.
const MaxIDLength = 256

// RunningError: another process runs the same request on the container
// now (exit 9, as a held container lock).
type RunningError struct {
	CTID int
	ID   string
	PID  int // from the request's lock file; 0 if unknown
}

func (e *RunningError) Error() string {
	s := fmt.Sprintf("request %q for container %d is running", e.ID, e.CTID)
	if e.PID > 0 {
		s += fmt.Sprintf(" in pid %d", e.PID)
	}
	return s
}

// Request is a held request: its lock file is flocked until Release, so
// that no other process runs or records it meanwhile.
type Request struct {
	ID     string
	record string // <dir>/<sha>.json
	lock   *os.File
}

// ValidateID accepts a non-empty printable id of at most MaxIDLength bytes.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("request id: empty")
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("request id: longer than %d bytes", MaxIDLength)
	}
	if strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("request id %q: not printable", id)
	}
	return nil
}

// Dir is where a container's requests are recorded: beside its lock.
func Dir(lockDir string, ctid int) string {
	return filepath.Join(lockDir, strconv.Itoa(ctid)+".requests")
}

// Begin takes the request id for the container: a *RunningError if another
// process holds it. The caller reads Recorded, runs if nothing is, Records
// the result and Releases.
func Begin(lockDir string, ctid int, id string) (*Request, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := Dir(lockDir, ctid)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("request %q: %w", id, err)
	}
	sum := sha256.Sum256([]byte(id))
	base := filepath.Join(dir, hex.EncodeToString(sum[:]))
	f, err := vz.OpenStateFile(base+".lck", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("request %q: %w", id, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &RunningError{CTID: ctid, ID: id, PID: pid}
		}
		return nil, fmt.Errorf("request %q: lock: %w", id, err)
	}
	// The pid is only for the message a second caller prints.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Request{ID: id, record: base + ".json", lock: f}, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	return pid
}

// Recorded is the result a finished run of this request recorded, if any.
func (r *Request) Recorded() ([]byte, bool, error) {
	f, err := vz.OpenStateFile(r.record, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("request %q: %w", r.ID, err)
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("request %q: %w", r.ID, err)
	}
	return data, true, nil
}

func readAll(f *os.File) ([]byte, error) {
	const limit = 1 << 20
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && len(data) > limit {
		err = errors.New("record larger than 1 MiB")
	}
	return data, err
}

// Record writes the request's result durably (temporary file, fsync,
// rename, fsync of the directory).
func (r *Request) Record(result []byte) error {
	if err := vz.WriteFileAtomic(r.record, result, 0o600); err != nil {
		return fmt.Errorf("record request %q: %w", r.ID, err)
	}
	return nil
}

// Release lets another process take the request. The lock file stays:
// removing a file another process may be flocking races.
func (r *Request) Release() {
	if r.lock != nil {
		r.lock.Close()
		r.lock = nil
	}
}
