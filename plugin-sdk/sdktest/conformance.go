package sdktest

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// reservedNames are the host's meta-arguments; no plugin attribute may use them.
var reservedNames = []string{"plugin", "timeout", "when", "on_failure"}

var (
	attributeName = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	handshakeLine = regexp.MustCompile(`^1\|1\|unix\|[^|]+\|grpc(\||$)`)
)

// Conformance checks a built plugin binary the way the host will use it:
// nothing on stdout before the handshake line; the handshake itself; GetInfo;
// for each kind a well-formed schema (known types, no reserved names) and a
// Validate of an empty body (required attributes unknown) and of a body
// whose attributes are all unknown, which must raise no error.
func Conformance(t *testing.T, binaryPath string) {
	t.Helper()
	t.Run("StdoutBeforeHandshake", func(t *testing.T) { checkFirstStdoutLine(t, binaryPath) })

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              exec.Command(binaryPath),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "conformance", Output: &testLogWriter{t: t}, Level: hclog.Info}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("handshake with %s: %v", binaryPath, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense %s: %v", binaryPath, err)
	}
	stage := raw.(*sdk.StageClient)
	info, err := stage.Info(t.Context())
	if err != nil {
		t.Fatalf("GetInfo: %v", err)
	}
	if info.Name == "" || info.Version == "" || info.SDKVersion == "" || len(info.Kinds) == 0 {
		t.Errorf("GetInfo = %+v: name, version, sdk version and kinds must all be set", info)
	}
	for _, kind := range info.Kinds {
		t.Run(kind, func(t *testing.T) { checkKind(t, stage, kind) })
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
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
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

func checkKind(t *testing.T, stage *sdk.StageClient, kind string) {
	schema, err := stage.Schema(t.Context(), kind)
	if err != nil {
		t.Fatalf("GetSchema(%s): %v", kind, err)
	}
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
	diags, err := stage.Validate(t.Context(), kind, []byte("{}"), required)
	if err != nil {
		t.Fatalf("Validate(%s, {}): %v", kind, err)
	}
	for _, d := range diags {
		if d.Attribute != "" && !slices.Contains(all, strings.Split(d.Attribute, ".")[0]) {
			t.Errorf("Validate(%s, {}): diagnostic %q names attribute %q, which the schema lacks", kind, d.Summary, d.Attribute)
		}
	}
	diags, err = stage.Validate(t.Context(), kind, unknownBody(all), all)
	if err != nil {
		t.Fatalf("Validate(%s) with every attribute unknown: %v", kind, err)
	}
	if diags.HasErrors() {
		t.Errorf("Validate(%s) with every attribute unknown reported errors %+v: unknown values are not errors", kind, diags)
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
