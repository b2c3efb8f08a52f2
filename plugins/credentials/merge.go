package credentials

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Database is one account database file and its merge rules.
type Database struct {
	// Name is the file's name under /etc.
	Name string
	// Entry names what a line describes, for messages ("user", "group").
	Entry string
	// Fields is the number of colon-separated fields of a valid line.
	Fields int
	// IDField is the index of the numeric uid or gid; -1 for none.
	IDField int
	// IDsFrom names the database, merged before this one, whose entries
	// kept from the template for a differing id keep this one's template
	// line too ("passwd" for shadow); "" for none.
	IDsFrom string
	// merge combines the new and the old line of the same name, both
	// parsed, and returns the fields to keep, or a warning and the new ones.
	merge func(newF, oldF []string) (fields []string, warning string)
}

// Databases are the files the stage merges, in order.
var Databases = []Database{Passwd, Shadow, Group, GShadow}

var (
	// Passwd: the old line wins (password, gecos, home, shell) when the uid
	// is the same; a different uid keeps the template's line.
	Passwd = Database{Name: "passwd", Entry: "user", Fields: 7, IDField: 2, merge: func(n, o []string) ([]string, string) {
		if n[2] != o[2] {
			return n, fmt.Sprintf("user %s has uid %s in the old container and %s in the template; the template's entry is kept", shown(n[0]), shown(o[2]), n[2])
		}
		return o, ""
	}}
	// Shadow: the old line wins, but for a user whose passwd entry is the
	// template's because the uid differs.
	Shadow = Database{Name: "shadow", Entry: "user", Fields: 9, IDField: -1, IDsFrom: "passwd", merge: func(_, o []string) ([]string, string) {
		return o, ""
	}}
	// Group: the template's line, with the old members added after its own;
	// a different gid keeps the template's line as it is.
	Group = Database{Name: "group", Entry: "group", Fields: 4, IDField: 2, merge: func(n, o []string) ([]string, string) {
		if n[2] != o[2] {
			return n, fmt.Sprintf("group %s has gid %s in the old container and %s in the template; the template's entry is kept", shown(n[0]), shown(o[2]), n[2])
		}
		return []string{n[0], n[1], n[2], unionList(n[3], o[3])}, ""
	}}
	// GShadow: the old group password; administrators and members are the
	// template's followed by the old extra ones. A group whose group entry
	// is the template's because the gid differs keeps the template's line.
	GShadow = Database{Name: "gshadow", Entry: "group", Fields: 4, IDField: -1, IDsFrom: "group", merge: func(n, o []string) ([]string, string) {
		return []string{n[0], o[1], unionList(n[2], o[2]), unionList(n[3], o[3])}, ""
	}}
)

// Report says what a merge did, for the stage's log.
type Report struct {
	Added    []string // names only in the old file, appended
	Updated  []string // names whose line changed
	Warnings []string // kept template entries, skipped old lines
	// IDMismatch are the names whose template line was kept because the
	// old uid or gid differs; the database that follows this one
	// (Database.IDsFrom) keeps their template line too.
	IDMismatch []string
}

// Changed reports whether the merged file differs from the new one.
func (r Report) Changed() bool { return len(r.Added)+len(r.Updated) > 0 }

// Merge merges the old file into the new one. Comments, blank and
// unparsable lines of the new file stay as they are, in place; old lines
// that do not parse are not appended but reported (by line number only:
// a shadow line holds a password hash). For a name that appears twice in a
// file the first line counts, as for getpwnam(3). The names of keepNew are
// those the database db.IDsFrom kept from the template for a differing id:
// their template line stays and their old line is never appended, so a
// template account never gets the old account's password.
func (db Database) Merge(newData, oldData []byte, keepNew map[string]bool) ([]byte, Report) {
	var rep Report
	lines := splitLines(newData)
	index := map[string]int{}      // name -> line number in lines
	idOwner := map[string]string{} // uid/gid -> first name with it in the new file
	for i, l := range lines {
		f, ok := db.parse(l)
		if !ok {
			continue
		}
		if _, dup := index[f[0]]; !dup {
			index[f[0]] = i
		}
		if db.IDField >= 0 {
			if _, dup := idOwner[f[db.IDField]]; !dup {
				idOwner[f[db.IDField]] = f[0]
			}
		}
	}
	seenOld := map[string]bool{}
	for n, l := range splitLines(oldData) {
		if isBlankOrComment(l) {
			continue
		}
		o, ok := db.parse(l)
		if !ok {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("line %d of the old file is not a %s entry; not merged", n+1, db.Name))
			continue
		}
		name := o[0]
		if seenOld[name] {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("line %d of the old file repeats %s %s; its first entry is used", n+1, db.Entry, shown(name)))
			continue
		}
		seenOld[name] = true
		i, inNew := index[name]
		if keepNew[name] {
			rep.Warnings = append(rep.Warnings, db.keptForID(name, inNew))
			continue
		}
		if !inNew {
			if db.IDField >= 0 {
				if owner, taken := idOwner[o[db.IDField]]; taken {
					rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s is added with id %s, which the template's %s %s has too", db.Entry, shown(name), o[db.IDField], db.Entry, shown(owner)))
				}
			}
			lines = append(lines, l)
			index[name] = len(lines) - 1
			rep.Added = append(rep.Added, name)
			continue
		}
		n, _ := db.parse(lines[i])
		if db.IDField >= 0 && n[db.IDField] != o[db.IDField] {
			rep.IDMismatch = append(rep.IDMismatch, name)
		}
		merged, warning := db.merge(n, o)
		if warning != "" {
			rep.Warnings = append(rep.Warnings, warning)
		}
		if line := strings.Join(merged, ":"); line != lines[i] {
			lines[i] = line
			rep.Updated = append(rep.Updated, name)
		}
	}
	if !rep.Changed() {
		return newData, rep
	}
	return []byte(strings.Join(lines, "\n") + "\n"), rep
}

// withPassword lists the names of data's entries (shadow or gshadow) that
// hold a password: a password field that is not empty, "*" or "x" once a
// lock's leading "!"s are taken away.
func (db Database) withPassword(data []byte) []string {
	var names []string
	for _, l := range splitLines(data) {
		f, ok := db.parse(l)
		if !ok || slices.Contains(names, f[0]) {
			continue
		}
		switch strings.TrimLeft(f[1], "!") {
		case "", "*", "x":
			continue
		}
		names = append(names, f[0])
	}
	return names
}

// keptForID is the warning for the old line of a name whose db.IDsFrom
// entry is the template's because the id differs.
func (db Database) keptForID(name string, inNew bool) string {
	if inNew {
		return fmt.Sprintf("%s %s keeps the template's entry, as in %s, where the id differs", db.Entry, shown(name), db.IDsFrom)
	}
	return fmt.Sprintf("%s %s of the old container is not added: its id differs in %s, where the template's entry is kept", db.Entry, shown(name), db.IDsFrom)
}

// parse splits a line into its fields; ok is false for a comment, a blank
// line, a wrong number of fields, an empty name, a NIS "+"/"-" entry or an
// id that is not a number.
func (db Database) parse(line string) (fields []string, ok bool) {
	if isBlankOrComment(line) {
		return nil, false
	}
	f := strings.Split(line, ":")
	if len(f) != db.Fields || f[0] == "" || strings.ContainsAny(f[0][:1], "+-") {
		return nil, false
	}
	if db.IDField >= 0 {
		if _, err := strconv.ParseUint(f[db.IDField], 10, 32); err != nil {
			return nil, false
		}
	}
	return f, true
}

func isBlankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// splitLines splits a file into lines without their "\n"; a last line
// without one counts.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// unionList is the comma-separated list a followed by the names of b not
// in a; a is returned as it is when b adds nothing.
func unionList(a, b string) string {
	have := listNames(a)
	extra := false
	for _, name := range listNames(b) {
		if !slices.Contains(have, name) {
			have = append(have, name)
			extra = true
		}
	}
	if !extra {
		return a
	}
	return strings.Join(have, ",")
}

// listNames splits a member list, dropping empty names.
func listNames(list string) []string {
	var out []string
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// shown is a name as it may be printed: the old container chose it, so one
// with control or non-printable characters is quoted.
func shown(name string) string {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
