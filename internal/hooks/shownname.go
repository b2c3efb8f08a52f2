package hooks

import (
	"strconv"
	"strings"
	"unicode"
)

// ShownName is a hook name as it may be printed: quoted when it holds
// control or non-printable characters (a container's hook names reach the
// operator's terminal).
func ShownName(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(name)
	}
	return name
}
