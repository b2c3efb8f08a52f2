package swap

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Rollback puts the old area back at VE_PRIVATE (and the new one at the
// temporary path), wherever the run stopped. It finds the old area by the
// inode recorded before the exchange, so it never guesses and can run twice:
// at the temporary or parked path, or anywhere within reach inside the new
// area (where the container may have moved /old). Immutable and append-only
// flags the container set on the areas are cleared first.
func (stage) Rollback(ctx context.Context, req *sdk.RollbackRequest) error {
	var id map[string]string
	for _, e := range req.Entries {
		if e.Step == stepExchange {
			id = e.Data
		}
	}
	if id == nil {
		return nil // nothing was exchanged
	}
	ino, _ := strconv.ParseUint(id["ino"], 10, 64)
	dev, _ := strconv.ParseUint(id["dev"], 10, 64)
	rc := req.Context
	isOld := func(path string) bool {
		var st unix.Stat_t
		return unix.Lstat(path, &st) == nil && st.Ino == ino && st.Dev == dev
	}
	if isOld(rc.Private) {
		return nil // the exchange never happened
	}
	switch {
	case isOld(rc.PrivateTmp):
	case isOld(rc.PrivatePrevious):
		if err := safefs.Rename(rc.PrivatePrevious, rc.PrivateTmp); err != nil {
			return fmt.Errorf("bring back the parked old area: %w", err)
		}
	default:
		rel, err := oldarea.Search(rc.Private, ino, dev)
		if err != nil {
			return fmt.Errorf("the old private area (inode %d) is at none of %s, %s, %s: %w",
				ino, rc.Private, rc.PrivateTmp, rc.PrivatePrevious, err)
		}
		if err := takeBackOld(req, rel, ino, dev); err != nil {
			return err
		}
	}
	for _, area := range []string{rc.Private, rc.PrivateTmp} {
		if err := clearFlags(req, area); err != nil {
			return err
		}
	}
	req.UI.Log("info", "exchanging the private areas back")
	if err := safefs.Exchange(rc.Private, rc.PrivateTmp); err != nil {
		return fmt.Errorf("exchange back: %w", err)
	}
	return nil
}

// takeBackOld moves the old area from rel inside the new one back to the
// temporary path, between directory fds opened without following symlinks,
// after clearing the flags that would stop it on the new area, the
// directory it sits in and itself.
func takeBackOld(req *sdk.RollbackRequest, rel []string, ino, dev uint64) error {
	rc := req.Context
	shown := filepath.Join(append([]string{rc.Private}, rel...)...)
	newArea, err := oldarea.OpenDir(rc.Private)
	if err != nil {
		return err
	}
	defer newArea.Close()
	parent, err := oldarea.OpenBeneath(newArea, rel[:len(rel)-1])
	if err != nil {
		return fmt.Errorf("take back %s: %w", shown, err)
	}
	defer parent.Close()
	name := rel[len(rel)-1]
	old, err := oldarea.OpenBeneath(parent, []string{name})
	if err != nil {
		return fmt.Errorf("take back %s: %w", shown, err)
	}
	defer old.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(old.Fd()), &st); err != nil || st.Ino != ino || st.Dev != dev {
		return fmt.Errorf("take back %s: it is no longer the old area (inode %d)", shown, ino)
	}
	for _, f := range []struct {
		fd   uintptr
		path string
	}{{newArea.Fd(), rc.Private}, {parent.Fd(), filepath.Dir(shown)}, {old.Fd(), shown}} {
		if err := clearFlagsFd(req, int(f.fd), f.path); err != nil {
			return err
		}
	}
	tmpParent, err := oldarea.OpenDir(filepath.Dir(rc.PrivateTmp))
	if err != nil {
		return err
	}
	defer tmpParent.Close()
	if err := safefs.RenameAt(parent, name, tmpParent, filepath.Base(rc.PrivateTmp)); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("take back %s: %s is in the way", shown, rc.PrivateTmp)
		}
		return fmt.Errorf("take back %s: %w", shown, err)
	}
	if len(rel) > 1 || name != "old" {
		req.UI.Log("warn", fmt.Sprintf("the old private area had been moved to %s inside the new one; taken back from there", shown))
	}
	return nil
}

// clearFlags clears the immutable and append-only flags of the directory
// at path (never through a symlink).
func clearFlags(req *sdk.RollbackRequest, path string) error {
	dir, err := oldarea.OpenDir(path)
	if err != nil {
		return err
	}
	defer dir.Close()
	return clearFlagsFd(req, int(dir.Fd()), path)
}

func clearFlagsFd(req *sdk.RollbackRequest, fd int, path string) error {
	cleared, err := safefs.ClearImmutable(fd)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if cleared {
		req.UI.Log("warn", "cleared the immutable or append-only flag set on "+path)
	}
	return nil
}
