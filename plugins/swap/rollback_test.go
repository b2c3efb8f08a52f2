package swap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Inode flags the tests set, as chattr +i and +a do.
const (
	immutable  = 0x10
	appendOnly = 0x20
)

type nopUI struct{ logs []string }

func (u *nopUI) Log(_ sdk.Level, msg string)         { u.logs = append(u.logs, msg) }
func (*nopUI) Progress(string, int64, int64, string) {}
func (*nopUI) Report(sdk.Progress)                   {}

// swapped lays out a container's areas as the swap leaves them: the new area
// at VE_PRIVATE, the old one at its /old. It returns the run context and the
// journal entries of the exchange.
func swapped(t *testing.T) (sdk.RunContext, []sdk.JournalEntry) {
	t.Helper()
	base := t.TempDir()
	rc := sdk.RunContext{
		Private:         filepath.Join(base, "101"),
		PrivateTmp:      filepath.Join(base, "101.reinstall"),
		PrivatePrevious: filepath.Join(base, "101.previous"),
	}
	for _, d := range []string{rc.Private, rc.PrivateTmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rc.Private, "customer-data"), []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(rc.Private, &st); err != nil {
		t.Fatal(err)
	}
	id := map[string]string{"ino": strconv.FormatUint(st.Ino, 10), "dev": strconv.FormatUint(st.Dev, 10)}
	if err := unix.Renameat2(unix.AT_FDCWD, rc.Private, unix.AT_FDCWD, rc.PrivateTmp, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(rc.PrivateTmp, filepath.Join(rc.Private, "old")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clearAllFlags(base) })
	return rc, []sdk.JournalEntry{{Step: stepExchange, Phase: sdk.PhaseBegin, Data: id}, {Step: stepExchange, Phase: sdk.PhaseDone, Data: id}}
}

func setFlags(t *testing.T, path string, flags int) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, flags); err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
			t.Skipf("the file system of %s has no inode flags (chattr): %v; set TMPDIR to an ext4, xfs or btrfs directory", path, err)
		}
		t.Fatal(err)
	}
}

// clearAllFlags lets the test's temporary directory be removed.
func clearAllFlags(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0); err == nil {
				unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, 0)
				unix.Close(fd)
			}
		}
		return nil
	})
}

func move(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// The rollback finds the old area by its inode wherever the container put it
// inside the new area, never through a symlink, and clears the immutable and
// append-only flags it set; out of reach, it fails saying so.
func TestRollbackFindsTheOldArea(t *testing.T) {
	tests := []struct {
		name    string
		hostile func(t *testing.T, newArea string)
		wantErr string
	}{
		{name: "at /old"},
		{name: "moved and /old a symlink to /", hostile: func(t *testing.T, n string) {
			move(t, filepath.Join(n, "old"), filepath.Join(n, "stolen"))
			if err := os.Symlink("/", filepath.Join(n, "old")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "moved four levels down, behind decoys", hostile: func(t *testing.T, n string) {
			for i := range 50 {
				os.MkdirAll(filepath.Join(n, "decoy"+strconv.Itoa(i), "x", "y"), 0o755)
			}
			os.Symlink("/", filepath.Join(n, "a-link"))
			move(t, filepath.Join(n, "old"), filepath.Join(n, "a", "b", "c", "stolen"))
		}},
		{name: "immutable, append-only, and in an immutable directory", hostile: func(t *testing.T, n string) {
			move(t, filepath.Join(n, "old"), filepath.Join(n, "hidden", "old"))
			setFlags(t, filepath.Join(n, "hidden", "old"), immutable)
			setFlags(t, filepath.Join(n, "hidden"), appendOnly)
			setFlags(t, n, immutable)
		}},
		{name: "immutable at /old", hostile: func(t *testing.T, n string) {
			setFlags(t, filepath.Join(n, "old"), immutable|appendOnly)
		}},
		{name: "five levels down: out of reach", hostile: func(t *testing.T, n string) {
			move(t, filepath.Join(n, "old"), filepath.Join(n, "a", "b", "c", "d", "old"))
		}, wantErr: "not found within 4 levels"},
		{name: "only behind a symlink", hostile: func(t *testing.T, n string) {
			outside := filepath.Join(filepath.Dir(n), "outside")
			move(t, filepath.Join(n, "old"), filepath.Join(outside, "old"))
			if err := os.Symlink(outside, filepath.Join(n, "linked")); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "not found within 4 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, entries := swapped(t)
			if tt.hostile != nil {
				tt.hostile(t, rc.Private)
			}
			ui := &nopUI{}
			err := stage{}.Rollback(context.Background(), &sdk.RollbackRequest{Context: rc, Entries: entries, UI: ui})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Rollback: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rollback: %v\n%s", err, strings.Join(ui.logs, "\n"))
			}
			if data, err := os.ReadFile(filepath.Join(rc.Private, "customer-data")); err != nil || string(data) != "precious\n" {
				t.Errorf("the old area is not back at %s: %q %v", rc.Private, data, err)
			}
			if fi, err := os.Lstat(rc.PrivateTmp); err != nil || !fi.IsDir() {
				t.Errorf("the new area is not at %s: %v", rc.PrivateTmp, err)
			}
			// Run again (a recovery after a crash): nothing left to do.
			if err := (stage{}).Rollback(context.Background(), &sdk.RollbackRequest{Context: rc, Entries: entries, UI: ui}); err != nil {
				t.Errorf("a second Rollback: %v", err)
			}
		})
	}
}
