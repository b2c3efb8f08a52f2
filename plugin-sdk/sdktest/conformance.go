package sdktest

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// reservedNames are the host's meta-arguments; no plugin attribute may use them.
var reservedNames = []string{"plugin", "timeout", "when", "on_failure"}

var (
	attributeName = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	handshakeLine = regexp.MustCompile(`^1\|1\|unix\|[^|]+\|grpc(\||$)`)
)

// FilePrefix starts the file name of every plugin reinstall discovers:
// reinstall-plugin-<name>, where <name> is what the plugin's GetInfo says.
const FilePrefix = "reinstall-plugin-"

// RunCase is a stage run Conformance makes against a FakeHost, in a fresh
// plugin process: Run, then Rollback with what Run journaled, twice (a
// rollback must be idempotent).
type RunCase struct {
	Name   string
	Kind   string
	Config any // as Client.Run takes it
	// Context is the run context; StageName and StageKind default to Kind.
	Context sdk.RunContext
	// Setup prepares the FakeHost (files, Exec and Secret behaviour).
	Setup func(h *FakeHost)
	// WantFailure, if set, is a substring of the failure Run must report;
	// otherwise Run must succeed.
	WantFailure string
	// Check makes the case's own assertions after the Run.
	Check func(t *testing.T, out Outcome, h *FakeHost)
}

// Conformance checks a built plugin binary the way the host will use it:
// nothing on stdout before the handshake line; the handshake itself;
// GetInfo (with a name matching a reinstall-plugin-<name> file name); for
// each kind a well-formed schema (known types, no reserved names) and a
// Validate of an empty body and of a body whose attributes are all
// unknown, which must raise no error; then each RunCase against a FakeHost.
func Conformance(t *testing.T, binaryPath string, runs ...RunCase) {
	t.Helper()
	t.Run("StdoutBeforeHandshake", func(t *testing.T) { checkFirstStdoutLine(t, binaryPath) })
	t.Run("Info", func(t *testing.T) {
		c := Launch(t, binaryPath)
		info := c.Info()
		if info.Name == "" || info.Version == "" || info.SDKVersion == "" || len(info.Kinds) == 0 {
			t.Errorf("GetInfo = %+v: name, version, sdk version and kinds must all be set", info)
		}
		if name, ok := strings.CutPrefix(filepath.Base(binaryPath), FilePrefix); ok && name != info.Name {
			t.Errorf("GetInfo name %q does not match the file name %s: reinstall knows the plugin as %q", info.Name, filepath.Base(binaryPath), name)
		}
		for _, kind := range info.Kinds {
			checkKind(t, c, kind)
		}
	})
	for _, rc := range runs {
		t.Run("Run/"+rc.Name, func(t *testing.T) { checkRun(t, binaryPath, rc) })
	}
}

// checkFirstStdoutLine starts the plugin as the host would and reads the
// first stdout line, which must be go-plugin's handshake.
func checkFirstStdoutLine(t *testing.T, binaryPath string) {
	cmd := exec.Command(binaryPath)
	cmd.Env = []string{
		sdk.Handshake.MagicCookieKey + "=" + sdk.Handshake.MagicCookieValue,
		fmt.Sprintf("PLUGIN_PROTOCOL_VERSIONS=%d", sdk.ProtocolVersion),
		"PLUGIN_UNIX_SOCKET_DIR=" + t.TempDir(),
		hostPath,
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binaryPath, err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		if !handshakeLine.MatchString(strings.TrimSpace(line)) {
			t.Errorf("first stdout line is %q, want the go-plugin handshake (1|1|unix|...|grpc|...): plugins must write nothing to stdout, log to stderr", line)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("no handshake on stdout within 30s")
	}
}

func checkKind(t *testing.T, c *Client, kind string) {
	schema := c.Schema(kind)
	var required, all []string
	for _, a := range schema.Attributes {
		if !attributeName.MatchString(a.Name) {
			t.Errorf("attribute %q: not a valid HCL attribute name", a.Name)
		}
		if slices.Contains(reservedNames, a.Name) {
			t.Errorf("attribute %q: reserved for the host's meta-arguments %v", a.Name, reservedNames)
		}
		if !validType(a.Type) {
			t.Errorf("attribute %q: type %q is not string, number, bool, list(T) or map(T)", a.Name, a.Type)
		}
		if a.Required {
			required = append(required, a.Name)
		}
		all = append(all, a.Name)
	}
	for _, b := range schema.Blocks {
		if !attributeName.MatchString(b.Name) || slices.Contains(reservedNames, b.Name) || slices.Contains(all, b.Name) {
			t.Errorf("block %q: not a valid HCL name, reserved for the host's meta-arguments %v, or declared twice", b.Name, reservedNames)
		}
		for _, a := range b.Attributes {
			if !attributeName.MatchString(a.Name) || !validType(a.Type) || a.Sensitive {
				t.Errorf("block %q: attribute %q: want a valid HCL name, a type of string, number, bool, list(T) or map(T), and not sensitive", b.Name, a.Name)
			}
		}
		all = append(all, b.Name)
	}
	for _, d := range c.Validate(kind, []byte("{}"), required...) {
		if d.Attribute != "" && !slices.Contains(all, strings.Split(d.Attribute, ".")[0]) {
			t.Errorf("Validate(%s, {}): diagnostic %q names attribute %q, which the schema lacks", kind, d.Summary, d.Attribute)
		}
	}
	if diags := c.Validate(kind, unknownBody(all), all...); diags.HasErrors() {
		t.Errorf("Validate(%s) with every attribute unknown reported errors %+v: unknown values are not errors", kind, diags)
	}
}

func checkRun(t *testing.T, binaryPath string, rc RunCase) {
	c := Launch(t, binaryPath)
	if rc.Setup != nil {
		rc.Setup(c.Host)
	}
	out := c.Run(rc.Kind, rc.Config, rc.Context)
	switch {
	case rc.WantFailure == "" && out.Failure != "":
		t.Fatalf("Run(%s) failed: %s", rc.Kind, out.Failure)
	case rc.WantFailure != "" && !strings.Contains(out.Failure, rc.WantFailure):
		t.Fatalf("Run(%s) failure = %q, want one containing %q", rc.Kind, out.Failure, rc.WantFailure)
	}
	if rc.Check != nil {
		rc.Check(t, out, c.Host)
	}
	entries := c.Host.JournalEntries()
	for i := 1; i <= 2; i++ {
		if rb := c.Rollback(rc.Kind, rc.Config, rc.Context, entries); rb.Failure != "" {
			t.Errorf("Rollback #%d after Run(%s) failed: %s (a rollback must be idempotent)", i, rc.Kind, rb.Failure)
		}
	}
}

// unknownBody is a JSON object with every attribute null (unknown).
func unknownBody(names []string) []byte {
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%q:null", n))
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

func validType(t string) bool {
	switch t {
	case "string", "number", "bool":
		return true
	}
	for _, c := range []string{"list(", "map("} {
		if strings.HasPrefix(t, c) && strings.HasSuffix(t, ")") {
			return validType(t[len(c) : len(t)-1])
		}
	}
	return false
}
