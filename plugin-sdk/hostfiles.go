package sdk

import (
	"context"
	"errors"
	"os"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// Host.ReadOldFile, Host.ListDir and Host.WriteFileOwned over the protocol,
// served by hosts that announce capOldArea.

// capOldArea is the host capability of ReadOldFile, ListDir and
// WriteFileOwned.
const capOldArea = "old-area"

// Area names a private area: the new one being built, or the old one the
// swap kept at /old or parked for deletion (--skipbackup).
type Area string

const (
	AreaNew Area = "new"
	AreaOld Area = "old"
)

// Owner is a file's numeric owner, as the container sees it.
type Owner struct {
	UID, GID int
}

// EntryType is the kind of a directory entry.
type EntryType string

const (
	EntryFile    EntryType = "file"
	EntryDir     EntryType = "dir"
	EntrySymlink EntryType = "symlink"
	EntryOther   EntryType = "other"
)

// DirEntry is one entry of a Host.ListDir answer (a symlink is described,
// never followed).
type DirEntry struct {
	Name string
	Type EntryType
	// Mode holds the permission bits with os.ModeSetuid, os.ModeSetgid
	// and os.ModeSticky; the type is in Type.
	Mode os.FileMode
	Size int64
	UID  int
	GID  int
}

// errNoOldArea is a call that needs capOldArea made to a host without it.
var errNoOldArea = errors.New("the host is too old for this call (no \"" + capOldArea + "\" capability): upgrade reinstall")

func (h *hostClient) ReadOldFile(ctx context.Context, path string) ([]byte, error) {
	if h.err != nil {
		return nil, h.err
	}
	if !h.oldArea {
		return nil, &HostError{Op: "read old " + path, Message: errNoOldArea.Error()}
	}
	resp, err := h.c.ReadOldFile(withStageToken(ctx, h.token), &stagev1.ReadFileRequest{Path: wire(path)})
	if err != nil {
		return nil, fromStatus("read old "+path, err)
	}
	return resp.GetData(), nil
}

func (h *hostClient) ListDir(ctx context.Context, area Area, path string) ([]DirEntry, error) {
	if h.err != nil {
		return nil, h.err
	}
	if !h.oldArea {
		return nil, &HostError{Op: "list " + path, Message: errNoOldArea.Error()}
	}
	resp, err := h.c.ListDir(withStageToken(ctx, h.token), &stagev1.ListDirRequest{Area: string(area), Path: wire(path)})
	if err != nil {
		return nil, fromStatus("list "+path, err)
	}
	entries := make([]DirEntry, len(resp.GetEntries()))
	for i, e := range resp.GetEntries() {
		entries[i] = DirEntry{Name: string(e.GetName()), Type: EntryType(e.GetType()), Mode: os.FileMode(e.GetMode()),
			Size: e.GetSize(), UID: int(e.GetUid()), GID: int(e.GetGid())}
	}
	return entries, nil
}

func (h *hostClient) WriteFileOwned(ctx context.Context, path string, data []byte, mode os.FileMode, owner Owner, makeParents bool) error {
	if h.err != nil {
		return h.err
	}
	// A host without the capability would drop the owner: refuse instead.
	if !h.oldArea {
		return &HostError{Op: "write " + path, Message: errNoOldArea.Error()}
	}
	if owner.UID < 0 || owner.GID < 0 {
		return &HostError{Op: "write " + path, Message: "a negative uid or gid"}
	}
	_, err := h.c.WriteFile(withStageToken(ctx, h.token), &stagev1.WriteFileRequest{Path: wire(path), Data: data, Mode: uint32(mode), MakeParents: makeParents,
		Owner: &stagev1.Owner{Uid: uint32(owner.UID), Gid: uint32(owner.GID)}})
	return fromStatus("write "+path, err)
}

func (s *hostServer) ReadOldFile(ctx context.Context, req *stagev1.ReadFileRequest) (*stagev1.ReadFileResponse, error) {
	data, err := s.h.ReadOldFile(ctx, string(req.GetPath()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &stagev1.ReadFileResponse{Data: data}, nil
}

func (s *hostServer) ListDir(ctx context.Context, req *stagev1.ListDirRequest) (*stagev1.ListDirResponse, error) {
	entries, err := s.h.ListDir(ctx, Area(req.GetArea()), string(req.GetPath()))
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &stagev1.ListDirResponse{Entries: make([]*stagev1.DirEntry, len(entries))}
	for i, e := range entries {
		resp.Entries[i] = &stagev1.DirEntry{Name: wire(e.Name), Type: string(e.Type), Mode: uint32(e.Mode),
			Size: e.Size, Uid: uint32(e.UID), Gid: uint32(e.GID)}
	}
	return resp, nil
}
