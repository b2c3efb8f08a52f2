package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	"github.com/reinstall-dev/reinstall/internal/safefs"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// WriteFileOwned writes a file of the new private area with its owner,
// never following a symlink.
func (s *services) WriteFileOwned(_ context.Context, path string, data []byte, mode os.FileMode, owner sdk.Owner, makeParents bool) error {
	return safefs.WriteFileBeneathAs(s.newArea(), path, data, mode, owner.UID, owner.GID, makeParents)
}

// ReadOldFile reads a file of the old private area, never following a
// symlink (one pointing out of the area is refused like any other).
func (s *services) ReadOldFile(_ context.Context, path string) ([]byte, error) {
	root, err := s.oldArea()
	if err != nil {
		return nil, fmt.Errorf("read old %s: %w", path, err)
	}
	data, _, err := safefs.ReadFileBeneath(root, path)
	return data, err
}

// ListDir lists a directory of the new or the old private area.
func (s *services) ListDir(_ context.Context, area sdk.Area, path string) ([]sdk.DirEntry, error) {
	var root string
	switch area {
	case sdk.AreaNew:
		root = s.newArea()
	case sdk.AreaOld:
		var err error
		if root, err = s.oldArea(); err != nil {
			return nil, fmt.Errorf("list old %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("list %s: no area %q (new or old)", path, area)
	}
	list, err := safefs.ListDirBeneath(root, path)
	if err != nil {
		return nil, err
	}
	entries := make([]sdk.DirEntry, len(list))
	for i, e := range list {
		entries[i] = sdk.DirEntry{Name: e.Name, Type: sdk.EntryType(e.Type), Mode: e.Mode, Size: e.Size, UID: e.UID, GID: e.GID}
	}
	return entries, nil
}

// oldArea is the host path of the old private area, found by the inode
// preflight recorded: VE_PRIVATE before the exchange, then <VE_PRIVATE>/old
// (kept) or <VE_PRIVATE>.previous (parked, --skipbackup), or wherever the
// running container moved its /old within reach (oldarea.Search, never
// through a symlink).
func (r *run) oldArea() (string, error) {
	for _, p := range []string{r.rc.Private, filepath.Join(r.rc.Private, "old"), r.rc.PrivatePrevious} {
		var st unix.Stat_t
		if unix.Lstat(p, &st) == nil && st.Ino == r.origIno && st.Dev == r.origDev && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return p, nil
		}
	}
	rel, err := oldarea.Search(r.rc.Private, r.origIno, r.origDev)
	if err != nil {
		return "", fmt.Errorf("the old private area (inode %d) is not at %s, %s/old or %s: %w", r.origIno, r.rc.Private, r.rc.Private, r.rc.PrivatePrevious, err)
	}
	return filepath.Join(append([]string{r.rc.Private}, rel...)...), nil
}
