package vz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// MaxCTID is the largest CTID (vzctl's VEID_MAX); 0 is the host.
const MaxCTID = 2147483644

// maxNameLen keeps a name usable as a file name in /etc/vz/names.
const maxNameLen = 255

// ReservedNames are the CLI's own words; no container may be named after
// one (`reinstall -- NAME` is always a container, contract §1).
var ReservedNames = []string{"ct", "plan", "recover", "status", "validate", "fmt", "plugins", "version", "help", "completion"}

var (
	ErrInvalidCTID = errors.New("invalid CTID")
	ErrInvalidName = errors.New("invalid container name")
)

// ParseCTID reads a CTID: decimal 1..2147483644, no leading zeros, no sign
// or spaces. Errors wrap ErrInvalidCTID.
func ParseCTID(s string) (int, error) {
	if !allDigits(s) {
		return 0, fmt.Errorf("%w %q: not a decimal number", ErrInvalidCTID, s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w %q: leading zero", ErrInvalidCTID, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > MaxCTID {
		return 0, fmt.Errorf("%w %q: must be 1..%d", ErrInvalidCTID, s, MaxCTID)
	}
	return int(n), nil
}

// CheckCTID reports whether ctid is in 1..MaxCTID.
func CheckCTID(ctid int) error {
	if ctid < 1 || ctid > MaxCTID {
		return fmt.Errorf("%w %d: must be 1..%d", ErrInvalidCTID, ctid, MaxCTID)
	}
	return nil
}

// ValidateName accepts [A-Za-z][A-Za-z0-9._+-]* of at most 255 bytes that is
// not one of ReservedNames. Errors wrap ErrInvalidName.
func ValidateName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%w %.20q...: longer than %d bytes", ErrInvalidName, s, maxNameLen)
	}
	if !isLetter(s[0]) {
		return fmt.Errorf("%w %q: must start with a letter", ErrInvalidName, s)
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && !strings.ContainsRune("._+-", rune(c)) {
			return fmt.Errorf("%w %q: character %q not allowed (letters, digits, '.', '_', '+', '-')", ErrInvalidName, s, c)
		}
	}
	if slices.Contains(ReservedNames, s) {
		return fmt.Errorf("%w %q: reserved word of the command line", ErrInvalidName, s)
	}
	return nil
}

// Resolve turns a CLI argument into a CTID. All digits: a CTID (name is "").
// Otherwise a name, looked up in <root>/etc/vz/names/<name>, which must be a
// symlink whose target's basename is "<CTID>.conf". The link is read, never
// followed, so its target need not exist under the root. A missing name
// wraps ErrUnknownContainer.
// Under UseLXC every argument is an LXC container name.
func (h *Host) Resolve(arg string) (ctid int, name string, err error) {
	if h.LXC != nil {
		return h.resolveLXC(arg)
	}
	if allDigits(arg) {
		ctid, err = ParseCTID(arg)
		return ctid, "", err
	}
	if err := ValidateName(arg); err != nil {
		return 0, "", err
	}
	link := h.NamePath(arg)
	st, err := os.Lstat(link)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", fmt.Errorf("%w %q: %s does not exist", ErrUnknownContainer, arg, link)
	}
	if err != nil {
		return 0, "", fmt.Errorf("container name %q: %w", arg, err)
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return 0, "", fmt.Errorf("container name %q: %s is not a symlink (%s); refusing it", arg, link, st.Mode().Type())
	}
	target, err := os.Readlink(link)
	if err != nil {
		return 0, "", fmt.Errorf("container name %q: %w", arg, err)
	}
	// The text after the last '/', taken literally: "101.conf/" is refused.
	base := target[strings.LastIndexByte(target, '/')+1:]
	digits, ok := strings.CutSuffix(base, ".conf")
	if !ok {
		return 0, "", fmt.Errorf("container name %q: %s points to %q, not to <CTID>.conf; refusing it", arg, link, target)
	}
	ctid, err = ParseCTID(digits)
	if err != nil {
		return 0, "", fmt.Errorf("container name %q: %s points to %q: %w", arg, link, target, err)
	}
	return ctid, arg, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
