package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// fakeServices records what plugins ask of the host.
type fakeServices struct {
	mu      sync.Mutex
	journal []sdk.JournalEntry
	files   map[string][]byte
	execs   [][]string
	emitted []Event
}

func newFakeServices() *fakeServices { return &fakeServices{files: map[string][]byte{}} }

func (s *fakeServices) Journal(_ context.Context, step string, phase sdk.Phase, data map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.journal = append(s.journal, sdk.JournalEntry{Step: step, Phase: phase, Data: data})
	return nil
}

func (s *fakeServices) Exec(_ context.Context, req sdk.ExecRequest) (int, error) {
	stdin := slices.Clone(req.Stdin)
	if req.StdinReader != nil { // the rest, streamed by a plugin whose host takes it so
		rest, err := io.ReadAll(req.StdinReader)
		if err != nil {
			return 0, err
		}
		stdin = append(stdin, rest...)
	}
	s.mu.Lock()
	s.execs = append(s.execs, append(slices.Clone(req.Argv), "stdin="+string(stdin)))
	s.mu.Unlock()
	fmt.Fprint(req.Stdout, strings.Join(req.Argv[1:], " ")+"\n")
	fmt.Fprint(req.Stderr, "warning\n")
	return 5, nil
}

func (s *fakeServices) ReadFile(_ context.Context, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.files[path]
	if !ok {
		return nil, os.ErrNotExist
	}
	return data, nil
}

func (s *fakeServices) WriteFile(_ context.Context, path string, data []byte, _ os.FileMode, _ bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	return nil
}

func (s *fakeServices) Probe(context.Context, string) (sdk.Probe, error) { return sdk.Probe{}, nil }
func (s *fakeServices) Start(context.Context) error                      { return nil }
func (s *fakeServices) Stop(context.Context) error                       { return nil }
func (s *fakeServices) Status(context.Context) (sdk.State, error)        { return sdk.StateRunning, nil }
func (s *fakeServices) Secret(_ context.Context, name string) (string, error) {
	return "secret-" + name, nil
}

func (s *fakeServices) ListeningPorts(context.Context) ([]int, error) { return []int{22, 80}, nil }

func (s *fakeServices) WriteFileOwned(ctx context.Context, path string, data []byte, mode os.FileMode, _ sdk.Owner, makeParents bool) error {
	return s.WriteFile(ctx, path, data, mode, makeParents)
}

func (s *fakeServices) ReadOldFile(context.Context, string) ([]byte, error) {
	return nil, os.ErrNotExist
}

func (s *fakeServices) ListDir(context.Context, sdk.Area, string) ([]sdk.DirEntry, error) {
	return nil, os.ErrNotExist
}

func (s *fakeServices) Emit(stage string, ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emitted = append(s.emitted, ev)
}

// assertGone checks the processes have ended (a zombie counts: pid 1 here
// may not reap orphans).
func assertGone(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if running(pid) {
			t.Errorf("process %d is still running", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// leftoverPlugins lists running processes of this test binary started as
// plugins (built-in or external form).
func leftoverPlugins() []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if args[0] != os.Args[0] || (len(args) > 1 && args[1] != "__plugin") {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(f, "/")[2])
		if pid != os.Getpid() && running(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func sha256Hex(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// testLogWriter sends host logs to t.Log until the test ends.
type testLogWriter struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLogWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}
