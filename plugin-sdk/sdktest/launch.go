package sdktest

import (
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// hostPath is the whole environment reinstall gives a plugin (besides
// go-plugin's handshake variables): the host's own is never passed on.
const hostPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Launch starts a built plugin binary the way reinstall does (go-plugin
// handshake over gRPC on a unix socket, no TLS, an environment of PATH only) and returns
// a Client driving it with a FakeHost. The process is killed when the test
// ends. Use it to test the binary you ship, not just its Go code.
func Launch(t testing.TB, binaryPath string) *Client {
	t.Helper()
	out := &testLogWriter{t: t}
	cmd := exec.Command(binaryPath)
	cmd.Env = []string{hostPath}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SkipHostEnv:      true,
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: out, Level: hclog.Debug}),
	})
	t.Cleanup(func() {
		client.Kill()
		out.stop()
	})
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin %s: %v", binaryPath, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense plugin %s: %v", binaryPath, err)
	}
	c := &Client{Host: NewFakeHost(), t: t, stage: raw.(*sdk.StageClient)}
	c.stage.ServeHost(c.Host)
	return c
}
