package swap

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/safefs"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Rollback puts the old area back at VE_PRIVATE (and the new one at the
// temporary path), wherever the run stopped. It finds the old area by the
// inode recorded before the exchange, so it never guesses and can run twice.
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
	case isOld(filepath.Join(rc.Private, "old")):
		if err := takeBackOld(rc); err != nil {
			return err
		}
	default:
		return fmt.Errorf("the old private area (inode %d) is at none of %s, %s, %s/old, %s",
			ino, rc.Private, rc.PrivateTmp, rc.Private, rc.PrivatePrevious)
	}
	req.UI.Log("info", "exchanging the private areas back")
	if err := safefs.Exchange(rc.Private, rc.PrivateTmp); err != nil {
		return fmt.Errorf("exchange back: %w", err)
	}
	return nil
}

// takeBackOld moves <new>/old back to the temporary path between directory fds.
func takeBackOld(rc sdk.RunContext) error {
	newArea, err := openDir(rc.Private)
	if err != nil {
		return err
	}
	defer newArea.Close()
	parent, err := openDir(filepath.Dir(rc.PrivateTmp))
	if err != nil {
		return err
	}
	defer parent.Close()
	if err := safefs.RenameAt(newArea, "old", parent, filepath.Base(rc.PrivateTmp)); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("take back %s/old: %s is in the way", rc.Private, rc.PrivateTmp)
		}
		return fmt.Errorf("take back %s/old: %w", rc.Private, err)
	}
	return nil
}
