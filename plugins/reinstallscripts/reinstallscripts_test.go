package reinstallscripts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/internal/hooks"
	"github.com/reinstall-dev/reinstall/internal/oldarea"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestRunReadsEveryHookFirst: a hook too large to run fails the stage with
// its one-line error before any hook has run (no Exec).
func TestRunReadsEveryHookFirst(t *testing.T) {
	root := t.TempDir()
	private := filepath.Join(t.TempDir(), "private")
	if err := os.MkdirAll(filepath.Join(private, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	swap, err := oldarea.OutputsOf(filepath.Join(private, "old"), oldarea.PlacementOld)
	if err != nil {
		t.Fatal(err)
	}
	writeSized(t, filepath.Join(root, hooks.Dir, "a.sh"), 10)
	writeSized(t, filepath.Join(root, hooks.Dir, "b.sh"), hooks.MaxHookSize+1)
	host := &execCountingHost{}
	_, err = stage{}.Run(context.Background(), &sdk.RunRequest{
		Context: sdk.RunContext{
			CTID: 101, HostRoot: root, Private: private, PrivatePrevious: private + ".previous",
			StageOutputs: map[string]map[string]string{"swap": swap},
		},
		Host: host, UI: nopUI{},
	})
	var tl *hooks.TooLargeError
	if !errors.As(err, &tl) || tl.Hook.Name != "b.sh" {
		t.Fatalf("Run: %v, want b.sh too large", err)
	}
	if host.execs != 0 {
		t.Errorf("%d hooks ran before the large one was refused", host.execs)
	}
}

// execCountingHost counts Exec calls; a hook that ran would call it.
type execCountingHost struct {
	sdk.Host
	execs int
}

func (h *execCountingHost) Exec(context.Context, sdk.ExecRequest) (int, error) {
	h.execs++
	return 0, nil
}
func (h *execCountingHost) Journal(context.Context, string, sdk.Phase, map[string]string) error {
	return nil
}
func (h *execCountingHost) Probe(context.Context, string) (sdk.Probe, error) {
	return sdk.Probe{Exists: true, Executable: true}, nil
}

type nopUI struct{}

func (nopUI) Log(sdk.Level, string)                 {}
func (nopUI) Progress(string, int64, int64, string) {}
func (nopUI) Report(sdk.Progress)                   {}

// writeSized writes an executable file of size bytes of shell comments.
func writeSized(t *testing.T, p string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "# padding padding padding\n"
	data := []byte(strings.Repeat(line, size/len(line)+1))[:size]
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
