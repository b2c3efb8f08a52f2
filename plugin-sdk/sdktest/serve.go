package sdktest

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Client drives a plugin served by Serve, as the host would.
type Client struct {
	// Host is the fake host services the plugin's stages call.
	Host  *FakeHost
	t     testing.TB
	stage *sdk.StageClient
}

// Outcome is how a Run or Rollback ended, with the events it streamed.
type Outcome struct {
	// Result is the stage's result; nil if it failed.
	Result *sdk.Result
	// Failure is the stage's error message; "" if it succeeded.
	Failure string
	// Events are the log lines and progress of the stream, in order.
	Events []sdk.Event
	// Diagnostics place the failure in the configuration (sdk.ErrorAt).
	Diagnostics sdk.Diagnostics
}

// Serve runs p in this process behind a real gRPC connection (go-plugin's
// TestPluginGRPCConn) with a FakeHost as its host services. Everything is
// torn down when the test ends. The plugin's logs go to t.Log.
func Serve(t testing.TB, p *sdk.Plugin) *Client {
	t.Helper()
	return serveGRPC(t, p.Name, &sdk.GRPCPlugin{Impl: p})
}

// ServeSet is Serve for a plugin set (sdk.ServeSet); Client.Component
// drives one of its components.
func ServeSet(t testing.TB, set map[string]*sdk.Plugin) *Client {
	t.Helper()
	return serveGRPC(t, "set", &sdk.GRPCPlugin{Set: set})
}

// Component is a Client of one component of the plugin set c serves,
// sharing c's connection and FakeHost.
func (c *Client) Component(name string) *Client {
	return &Client{Host: c.Host, t: c.t, stage: c.stage.Component(name)}
}

func serveGRPC(t testing.TB, name string, gp *sdk.GRPCPlugin) *Client {
	t.Helper()
	out := &testLogWriter{t: t}
	gp.Logger = hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Debug, Output: out})
	client, server := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{sdk.PluginName: gp})
	t.Cleanup(func() {
		_ = client.Close()
		server.Stop()
		out.stop()
	})
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense plugin %s: %v", name, err)
	}
	c := &Client{Host: NewFakeHost(), t: t, stage: raw.(*sdk.StageClient)}
	c.stage.ServeHost(c.Host)
	return c
}

// Stage returns the underlying protocol client, for tests of transport errors.
func (c *Client) Stage() *sdk.StageClient { return c.stage }

// Info returns the plugin's GetInfo answer; it fails the test on error.
func (c *Client) Info() sdk.Info {
	c.t.Helper()
	info, err := c.stage.Info(c.t.Context())
	if err != nil {
		c.t.Fatalf("GetInfo: %v", err)
	}
	return info
}

// Schema returns a stage kind's schema; it fails the test on error.
func (c *Client) Schema(kind string) sdk.Schema {
	c.t.Helper()
	s, err := c.stage.Schema(c.t.Context(), kind)
	if err != nil {
		c.t.Fatalf("GetSchema(%s): %v", kind, err)
	}
	return s
}

// Validate validates config (JSON bytes, or any value to marshal as JSON);
// it fails the test on a transport error. As the host does, it sends
// sensitive attributes as unknown (null).
func (c *Client) Validate(kind string, config any, unknown ...string) sdk.Diagnostics {
	c.t.Helper()
	raw, hidden := c.hideSensitive(kind, c.configJSON(kind, config, unknown...))
	for _, name := range hidden {
		if !slices.Contains(unknown, name) {
			unknown = append(unknown, name)
		}
	}
	d, err := c.stage.Validate(c.t.Context(), kind, raw, unknown)
	if err != nil {
		c.t.Fatalf("Validate(%s): %v", kind, err)
	}
	return d
}

// Run runs a stage of the given kind; rc's StageName and StageKind default
// to the kind. A stage error is an Outcome with Failure set; a transport
// error fails the test. As the host does, it hands the values of sensitive
// attributes to the stage only through Host.Secret: they are null in the
// stage's Config, and set on the FakeHost with SetSecret.
func (c *Client) Run(kind string, config any, rc sdk.RunContext) Outcome {
	c.t.Helper()
	rc = c.prepare(kind, rc)
	raw, _ := c.hideSensitive(kind, c.configJSON(kind, config))
	var out Outcome
	res, err := c.stage.Run(c.t.Context(), kind, raw, rc, out.record)
	if err != nil {
		c.t.Fatalf("Run(%s): %v", kind, err)
	}
	out.Result, out.Failure, out.Diagnostics = res.Result, res.Failure, res.Diagnostics
	return out
}

// Rollback rolls a stage back with the given journal entries (typically
// c.Host.JournalEntries() after a Run).
func (c *Client) Rollback(kind string, config any, rc sdk.RunContext, entries []sdk.JournalEntry) Outcome {
	c.t.Helper()
	rc = c.prepare(kind, rc)
	raw, _ := c.hideSensitive(kind, c.configJSON(kind, config))
	var out Outcome
	res, err := c.stage.Rollback(c.t.Context(), kind, raw, rc, entries, out.record)
	if err != nil {
		c.t.Fatalf("Rollback(%s): %v", kind, err)
	}
	out.Failure = res.Failure
	return out
}

func (o *Outcome) record(ev sdk.Event) { o.Events = append(o.Events, ev) }

func (c *Client) prepare(kind string, rc sdk.RunContext) sdk.RunContext {
	if rc.StageKind == "" {
		rc.StageKind = kind
	}
	if rc.StageName == "" {
		rc.StageName = kind
	}
	c.Host.setStage(rc.StageName)
	return rc
}

// configJSON is a stage's configuration as the host sends it: as JSON,
// with the schema's defaults where an attribute is left out or null (and
// known), in the body and in its blocks.
func (c *Client) configJSON(kind string, config any, unknown ...string) []byte {
	c.t.Helper()
	var b []byte
	switch v := config.(type) {
	case nil:
		b = []byte("{}")
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	default:
		var err error
		if b, err = json.Marshal(config); err != nil {
			c.t.Fatalf("marshal stage config: %v", err)
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return b
	}
	schema := c.Schema(kind)
	filled, err := fillDefaults(fields, schema.Attributes, unknown)
	if err == nil {
		var inBlocks bool
		inBlocks, err = fillBlockDefaults(fields, schema.Blocks, unknown)
		filled = filled || inBlocks
	}
	if err != nil {
		c.t.Fatalf("stage config: %v", err)
	}
	if !filled {
		return b
	}
	out, err := json.Marshal(fields)
	if err != nil {
		c.t.Fatalf("marshal stage config: %v", err)
	}
	return out
}

// testLogWriter sends plugin logs to t.Log until the test ends (t.Log after
// that panics, and server goroutines may still log while shutting down).
type testLogWriter struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func (w *testLogWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// hideSensitive does what the host does with a stage's sensitive
// attributes: their values go to the FakeHost's secrets and are null in the
// configuration the stage receives. It returns the sensitive names.
func (c *Client) hideSensitive(kind string, raw []byte) ([]byte, []string) {
	c.t.Helper()
	schema, err := c.stage.Schema(c.t.Context(), kind)
	if err != nil {
		return raw, nil // the call itself reports an unknown kind
	}
	var hidden []string
	for _, a := range schema.Attributes {
		if a.Sensitive {
			hidden = append(hidden, a.Name)
		}
	}
	var attrs map[string]json.RawMessage
	if len(hidden) == 0 || json.Unmarshal(raw, &attrs) != nil {
		return raw, hidden
	}
	for _, name := range hidden {
		v, ok := attrs[name]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			s = string(v) // a non-string secret, as its JSON text
		}
		c.Host.SetSecret(name, s)
		attrs[name] = json.RawMessage("null")
	}
	out, err := json.Marshal(attrs)
	if err != nil {
		c.t.Fatalf("marshal stage config: %v", err)
	}
	return out, hidden
}
