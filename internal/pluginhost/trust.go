package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// UntrustedError is a plugin file that someone other than root could have
// changed; reinstall runs plugins as root, so it refuses them.
type UntrustedError struct {
	Path string
	// Reason says what is wrong and how to fix it.
	Reason string
}

func (e *UntrustedError) Error() string { return e.Path + ": " + e.Reason }

// ChecksumError is a plugin file whose SHA-256 is not the pinned one.
type ChecksumError struct {
	Plugin, Path string
	Got, Pinned  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("plugin %s: refusing to start %s: its SHA-256 is %s, but %s is pinned", e.Plugin, e.Path, e.Got, e.Pinned)
}

// CheckTrusted reports whether an external plugin file may be run: the file
// (after symlinks) must be a regular file, executable, owned by root and not
// writable by group or others, and so must every directory above it, except
// that a root-owned sticky directory (such as /tmp) may be writable by all.
func CheckTrusted(path string) error {
	f, err := openTrusted(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return readerSHA256(f)
}

// openTrusted resolves path, checks every directory above the file and
// returns the file opened without following a symlink, checked on its open
// descriptor: what is checked (and hashed, and executed) is one inode.
func openTrusted(path string) (*os.File, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, err
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		if err := checkDir(dir); err != nil {
			return nil, err
		}
		if dir == "/" {
			break
		}
	}
	fd, err := unix.Open(real, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: real, Err: err}
	}
	f := os.NewFile(uintptr(fd), real)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "stat", Path: real, Err: err}
	}
	if err := checkFile(real, &st); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkFile(path string, st *unix.Stat_t) error {
	mode := st.Mode & 0o7777
	reason := ""
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		reason = "it is not a regular file"
	case st.Uid != 0:
		reason = fmt.Sprintf("it is owned by uid %d, not root (chown root %s)", st.Uid, path)
	case st.Mode&0o022 != 0:
		reason = fmt.Sprintf("it is writable by group or others (mode %04o; chmod go-w %s)", mode, path)
	case st.Mode&0o100 == 0:
		reason = fmt.Sprintf("it is not executable (mode %04o; chmod 0755 %s)", mode, path)
	default:
		return nil
	}
	return &UntrustedError{Path: path, Reason: reason}
}

func checkDir(dir string) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	sticky := st.Mode&unix.S_ISVTX != 0
	switch {
	case st.Uid != 0:
		return &UntrustedError{Path: dir, Reason: fmt.Sprintf("its directory %s is owned by uid %d, not root", dir, st.Uid)}
	case st.Mode&0o022 != 0 && !sticky:
		return &UntrustedError{Path: dir, Reason: fmt.Sprintf("its directory %s is writable by group or others (mode %04o)", dir, st.Mode&0o7777)}
	}
	return nil
}

// verifySHA256 hashes f from its start and compares with the pinned sum.
func verifySHA256(name string, f *os.File, want string) error {
	got, err := readerSHA256(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return fmt.Errorf("plugin %s: verify checksum of %s: %w", name, f.Name(), err)
	}
	if !strings.EqualFold(got, strings.TrimSpace(want)) {
		return &ChecksumError{Plugin: name, Path: f.Name(), Got: got, Pinned: want}
	}
	return nil
}

func readerSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
