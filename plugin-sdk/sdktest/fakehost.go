package sdktest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// FakeHost is the host services a plugin sees under Serve. Every call is
// recorded; each Func field, when set, replaces the default behaviour
// described next to it. Set the fields before the calls that use them.
type FakeHost struct {
	// JournalFunc decides a Journal call (default: accept).
	JournalFunc func(ctx context.Context, e sdk.JournalEntry) error
	// ExecFunc runs a command (default: no output, exit 0).
	ExecFunc func(ctx context.Context, req sdk.ExecRequest) (int, error)
	// ReadFileFunc reads a file (default: from the files put or written).
	ReadFileFunc func(ctx context.Context, path string) ([]byte, error)
	// WriteFileFunc writes a file (default: keep it in the files).
	WriteFileFunc func(ctx context.Context, path string, data []byte, mode os.FileMode, makeParents bool) error
	// ProbeFunc probes a path (default: from the files and their parents).
	ProbeFunc func(ctx context.Context, path string) (sdk.Probe, error)
	// StartFunc, StopFunc and StatusFunc drive the container (default: a
	// flag that Start sets and Stop clears; Status reports it).
	StartFunc  func(ctx context.Context) error
	StopFunc   func(ctx context.Context) error
	StatusFunc func(ctx context.Context) (sdk.State, error)
	// SecretFunc answers Secret (default: the values given to SetSecret).
	SecretFunc func(ctx context.Context, name string) (string, error)
	// ListeningPortsFunc answers ListeningPorts (default: the ports given
	// to SetListeningPorts).
	ListeningPortsFunc func(ctx context.Context) ([]int, error)
	// ReadOldFileFunc reads a file of the old area (default: from the
	// files given to PutOldFile).
	ReadOldFileFunc func(ctx context.Context, path string) ([]byte, error)
	// ListDirFunc lists a directory (default: from the files of the area).
	ListDirFunc func(ctx context.Context, area sdk.Area, path string) ([]sdk.DirEntry, error)

	mu       sync.Mutex
	oldFiles map[string]File
	stage    string
	journal  []sdk.JournalEntry
	files    map[string]File
	execs    []ExecCall
	events   []sdk.Event
	secrets  map[string]string
	running  bool
	ports    []int
}

// File is a file of the fake private area.
type File struct {
	Data []byte
	Mode os.FileMode
	// UID and GID: as WriteFileOwned gave them (0 otherwise).
	UID, GID int
}

// ExecCall is a recorded Exec.
type ExecCall struct {
	Argv     []string
	Env      []string
	Stdin    []byte
	ExitCode int
	Err      error
}

// NewFakeHost returns a FakeHost with an empty private area and a stopped container.
func NewFakeHost() *FakeHost {
	return &FakeHost{files: map[string]File{}, oldFiles: map[string]File{}, secrets: map[string]string{}}
}

var _ sdk.HostServer = (*FakeHost)(nil)

// setStage names the stage that later Journal entries belong to.
func (h *FakeHost) setStage(stage string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stage = stage
}

// PutFile adds a file to the fake private area.
func (h *FakeHost) PutFile(p string, data []byte, mode os.FileMode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path.Clean(p)] = File{Data: slices.Clone(data), Mode: mode}
}

// SetSecret sets the value Secret returns for name.
func (h *FakeHost) SetSecret(name, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets[name] = value
}

// SetListeningPorts sets the ports ListeningPorts reports.
func (h *FakeHost) SetListeningPorts(ports ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ports = slices.Sorted(slices.Values(ports))
}

// JournalEntries returns the journal entries recorded so far, in order.
func (h *FakeHost) JournalEntries() []sdk.JournalEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.journal)
}

// Files returns the fake private area: files put and written.
func (h *FakeHost) Files() map[string]File {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.files)
}

// ExecCalls returns the commands run so far, in order.
func (h *FakeHost) ExecCalls() []ExecCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.execs)
}

// Events returns the events sent through Emit (outside a Run stream).
func (h *FakeHost) Events() []sdk.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// Running reports the fake container's state.
func (h *FakeHost) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running
}

func (h *FakeHost) Journal(ctx context.Context, step string, phase sdk.Phase, data map[string]string) error {
	h.mu.Lock()
	e := sdk.JournalEntry{Stage: h.stage, Step: step, Phase: phase, Data: data}
	h.journal = append(h.journal, e)
	h.mu.Unlock()
	if h.JournalFunc != nil {
		return h.JournalFunc(ctx, e)
	}
	return nil
}

func (h *FakeHost) Exec(ctx context.Context, req sdk.ExecRequest) (int, error) {
	if req.StdinReader != nil {
		rest, err := io.ReadAll(req.StdinReader)
		if err != nil {
			return -1, fmt.Errorf("read stdin: %w", err)
		}
		req.Stdin, req.StdinReader = append(slices.Clone(req.Stdin), rest...), nil
	}
	code, err := 0, error(nil)
	if h.ExecFunc != nil {
		code, err = h.ExecFunc(ctx, req)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.execs = append(h.execs, ExecCall{Argv: req.Argv, Env: req.Env, Stdin: req.Stdin, ExitCode: code, Err: err})
	return code, err
}

func (h *FakeHost) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if h.ReadFileFunc != nil {
		return h.ReadFileFunc(ctx, p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.files[path.Clean(p)]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	}
	return slices.Clone(f.Data), nil
}

func (h *FakeHost) WriteFile(ctx context.Context, p string, data []byte, mode os.FileMode, makeParents bool) error {
	if h.WriteFileFunc != nil {
		if err := h.WriteFileFunc(ctx, p, data, mode, makeParents); err != nil {
			return err
		}
	}
	h.PutFile(p, data, mode)
	return nil
}

func (h *FakeHost) Probe(ctx context.Context, p string) (sdk.Probe, error) {
	if h.ProbeFunc != nil {
		return h.ProbeFunc(ctx, p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p = path.Clean(p)
	if f, ok := h.files[p]; ok {
		return sdk.Probe{Exists: true, Executable: f.Mode&0o111 != 0}, nil
	}
	for name := range h.files {
		if strings.HasPrefix(name, strings.TrimSuffix(p, "/")+"/") {
			return sdk.Probe{Exists: true, IsDir: true}, nil
		}
	}
	return sdk.Probe{}, nil
}

func (h *FakeHost) Start(ctx context.Context) error {
	if h.StartFunc != nil {
		if err := h.StartFunc(ctx); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = true
	return nil
}

func (h *FakeHost) Stop(ctx context.Context) error {
	if h.StopFunc != nil {
		if err := h.StopFunc(ctx); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	return nil
}

func (h *FakeHost) Status(ctx context.Context) (sdk.State, error) {
	if h.StatusFunc != nil {
		return h.StatusFunc(ctx)
	}
	if h.Running() {
		return "running", nil
	}
	return "stopped", nil
}

func (h *FakeHost) Secret(ctx context.Context, name string) (string, error) {
	if h.SecretFunc != nil {
		return h.SecretFunc(ctx, name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.secrets[name]
	if !ok {
		return "", fmt.Errorf("no secret %q", name)
	}
	return v, nil
}

func (h *FakeHost) ListeningPorts(ctx context.Context) ([]int, error) {
	if h.ListeningPortsFunc != nil {
		return h.ListeningPortsFunc(ctx)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ports), nil
}

func (h *FakeHost) Emit(stage string, ev sdk.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ev.Stage = stage
	h.events = append(h.events, ev)
}
