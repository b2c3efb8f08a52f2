package pluginhost

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// TestCrashLogsUnshownStderr checks a crash report logs the plugin's last
// stderr lines the host's logger did not print live (below its level).
func TestCrashLogsUnshownStderr(t *testing.T) {
	l := newLauncher(t)
	var buf syncBuffer
	l.Logger = hclog.New(&hclog.LoggerOptions{Name: "host", Output: &buf, Level: hclog.Warn})
	p := launch(t, l, Spec{Name: "testplugin"}, newFakeServices())
	_, err := p.Run(t.Context(), sdk.KindConfigure, []byte(`{"mode":"exit"}`), sdk.RunContext{StageName: "crashy"}, nil)
	var ce *CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("Run error = %v, want a CrashError", err)
	}
	out := buf.String()
	head, block, ok := strings.Cut(out, "crashed during stage crashy; its last stderr lines:")
	if !ok {
		t.Fatalf("no crash report in the host log:\n%s", out)
	}
	if !strings.Contains(head, "[ERROR] host.testplugin: about to misbehave") {
		t.Errorf("the plugin's error line was not logged live:\n%s", out)
	}
	if !strings.Contains(block, "| [INFO] working on it") {
		t.Errorf("the crash report lacks the unshown info line:\n%s", out)
	}
	if strings.Contains(block, "about to misbehave") {
		t.Errorf("the crash report repeats a line already shown:\n%s", out)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
