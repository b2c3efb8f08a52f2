package credentials

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestMergeFixtures merges testdata/<db>/old into testdata/<db>/new and
// compares the result with testdata/<db>/want and the report. Shadow and
// gshadow get the names passwd and group kept for a differing id, as the
// stage passes them: mysql (uid 995 old, 27 in the template) and www keep
// the template's locked shadow line, never the old hash.
func TestMergeFixtures(t *testing.T) {
	tests := []struct {
		db   Database
		want Report
	}{
		{Passwd, Report{
			Added:   []string{"alice", "bob"},
			Updated: []string{"root"},
			Warnings: []string{
				"user www has uid 48 in the old container and 33 in the template; the template's entry is kept",
				"line 6 of the old file is not a passwd entry; not merged",
				"user bob is added with id 1000, which the template's user ubuntu has too",
				"line 8 of the old file repeats user alice; its first entry is used",
				"line 10 of the old file is not a passwd entry; not merged",
				"user mysql has uid 995 in the old container and 27 in the template; the template's entry is kept",
			},
			IDMismatch: []string{"www", "mysql"},
		}},
		{Shadow, Report{
			Added:   []string{"alice"},
			Updated: []string{"root"},
			Warnings: []string{
				"line 4 of the old file is not a shadow entry; not merged",
				"user mysql keeps the template's entry, as in passwd, where the id differs",
				"user www of the old container is not added: its id differs in passwd, where the template's entry is kept",
			},
		}},
		{Group, Report{
			Added:   []string{"developers", "staff"},
			Updated: []string{"adm", "sudo"},
			Warnings: []string{
				"group www-data has gid 48 in the old container and 33 in the template; the template's entry is kept",
				"group staff is added with id 27, which the template's group sudo has too",
			},
			IDMismatch: []string{"www-data"},
		}},
		{GShadow, Report{
			Added:    []string{"devs"},
			Updated:  []string{"sudo"},
			Warnings: []string{"group www-data keeps the template's entry, as in group, where the id differs"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.db.Name, func(t *testing.T) {
			var keepNew map[string]bool
			if tt.db.IDsFrom != "" {
				from := filepath.Join("testdata", tt.db.IDsFrom)
				var byID Database
				for _, db := range Databases {
					if db.Name == tt.db.IDsFrom {
						byID = db
					}
				}
				_, rep := byID.Merge(readFixture(t, from, "new"), readFixture(t, from, "old"), nil)
				keepNew = map[string]bool{}
				for _, name := range rep.IDMismatch {
					keepNew[name] = true
				}
			}
			dir := filepath.Join("testdata", tt.db.Name)
			got, rep := tt.db.Merge(readFixture(t, dir, "new"), readFixture(t, dir, "old"), keepNew)
			if d := cmp.Diff(string(readFixture(t, dir, "want")), string(got)); d != "" {
				t.Errorf("merged /etc/%s (-want +got):\n%s", tt.db.Name, d)
			}
			if d := cmp.Diff(tt.want, rep, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("report (-want +got):\n%s", d)
			}
		})
	}
}

// TestMergeEdges covers files whose bytes must survive as they are.
func TestMergeEdges(t *testing.T) {
	const root = "root:x:0:0:root:/root:/bin/sh"
	tests := []struct {
		name, newFile, oldFile, want string
		changed                      bool
	}{
		{"same content: the new bytes, even without a final newline", root, root + "\n", root, false},
		{"an old file of comments and blank lines changes nothing", root + "\n", "# x\n\n   \n", root + "\n", false},
		{"an appended line after a last line without newline", root, "alice:x:1001:1001::/home/alice:/bin/sh\n",
			root + "\nalice:x:1001:1001::/home/alice:/bin/sh\n", true},
		{"an empty new file gets the old users", "", root + "\n", root + "\n", true},
		{"old NIS entries are not appended", root + "\n", "+::::::\n-bob::::::\n", root + "\n", false},
		{"a duplicate in the new file: the first line is merged, the second kept", root + "\nroot:x:0:0:second:/:/bin/sh\n",
			"root:x:0:0:old:/root:/bin/bash\n", "root:x:0:0:old:/root:/bin/bash\nroot:x:0:0:second:/:/bin/sh\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep := Passwd.Merge([]byte(tt.newFile), []byte(tt.oldFile), nil)
			if d := cmp.Diff(tt.want, string(got)); d != "" {
				t.Errorf("merged (-want +got):\n%s", d)
			}
			if rep.Changed() != tt.changed {
				t.Errorf("changed = %v, want %v (%+v)", rep.Changed(), tt.changed, rep)
			}
		})
	}
}

// TestMergeGroupMembers: the template's members first, then the old extra
// ones; no rewrite when the old ones are all there.
func TestMergeGroupMembers(t *testing.T) {
	tests := []struct{ newLine, oldLine, want string }{
		{"wheel:x:10:", "wheel:x:10:alice", "wheel:x:10:alice"},
		{"wheel:x:10:b,a", "wheel:x:10:a,c,b,d", "wheel:x:10:b,a,c,d"},
		{"wheel:x:10:a, b", "wheel:x:10:b,a", "wheel:x:10:a, b"},
		{"wheel:x:10:a", "wheel:x:10:,,a,", "wheel:x:10:a"},
	}
	for _, tt := range tests {
		t.Run(tt.newLine+"+"+tt.oldLine, func(t *testing.T) {
			got, _ := Group.Merge([]byte(tt.newLine+"\n"), []byte(tt.oldLine+"\n"), nil)
			if d := cmp.Diff(tt.want+"\n", string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestShownQuotesControlCharacters(t *testing.T) {
	got, rep := Passwd.Merge(nil, []byte("ev\x1b[2Jil:x:5:5::/:/bin/sh\n"), nil)
	if string(got) != "ev\x1b[2Jil:x:5:5::/:/bin/sh\n" || len(rep.Added) != 1 {
		t.Fatalf("merged %q, report %+v", got, rep)
	}
	if s := summary(Passwd, rep); s != `1 user added ("ev\x1b[2Jil")` {
		t.Errorf("summary %q", s)
	}
}

func readFixture(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
