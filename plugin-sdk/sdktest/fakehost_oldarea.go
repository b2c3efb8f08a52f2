package sdktest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// PutOldFile adds a file to the fake old private area.
func (h *FakeHost) PutOldFile(p string, data []byte, mode os.FileMode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.oldFiles[path.Clean(p)] = File{Data: slices.Clone(data), Mode: mode}
}

// WriteFileOwned writes a file with its owner (through WriteFileFunc when
// set, which does not see the owner).
func (h *FakeHost) WriteFileOwned(ctx context.Context, p string, data []byte, mode os.FileMode, owner sdk.Owner, makeParents bool) error {
	if h.WriteFileFunc != nil {
		if err := h.WriteFileFunc(ctx, p, data, mode, makeParents); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path.Clean(p)] = File{Data: slices.Clone(data), Mode: mode, UID: owner.UID, GID: owner.GID}
	return nil
}

func (h *FakeHost) ReadOldFile(ctx context.Context, p string) ([]byte, error) {
	if h.ReadOldFileFunc != nil {
		return h.ReadOldFileFunc(ctx, p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.oldFiles[path.Clean(p)]
	if !ok {
		return nil, fmt.Errorf("read old %s: %w", p, fs.ErrNotExist)
	}
	return slices.Clone(f.Data), nil
}

// ListDir lists the files of the area directly in p, and the directories
// that hold files below it.
func (h *FakeHost) ListDir(ctx context.Context, area sdk.Area, p string) ([]sdk.DirEntry, error) {
	if h.ListDirFunc != nil {
		return h.ListDirFunc(ctx, area, p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	files := map[sdk.Area]map[string]File{sdk.AreaNew: h.files, sdk.AreaOld: h.oldFiles}[area]
	if files == nil {
		return nil, fmt.Errorf("list %s: no area %q (new or old)", p, area)
	}
	prefix := strings.TrimSuffix(path.Clean(p), "/") + "/"
	seen := map[string]sdk.DirEntry{}
	for name, f := range files {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if child, _, deeper := strings.Cut(rest, "/"); deeper {
			seen[child] = sdk.DirEntry{Name: child, Type: sdk.EntryDir, Mode: 0o755}
		} else {
			seen[rest] = sdk.DirEntry{Name: rest, Type: sdk.EntryFile, Mode: f.Mode, Size: int64(len(f.Data)), UID: f.UID, GID: f.GID}
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("list %s: %w", p, fs.ErrNotExist)
	}
	entries := make([]sdk.DirEntry, 0, len(seen))
	for _, e := range seen {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b sdk.DirEntry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}
