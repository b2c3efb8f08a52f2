package sdk

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// ProtocolVersion is the stage protocol major version this SDK speaks; it is
// go-plugin's negotiated protocol version and the v1 of package stagev1.
const ProtocolVersion = 1

// SDKVersion is reported by GetInfo so the host can tell plugin builds apart.
const SDKVersion = "0.1.0"

// PluginName is the single go-plugin plugin a stage plugin process serves.
const PluginName = "stage"

// Handshake is shared by the host and every plugin. The cookie is a UX guard
// (it stops a plugin binary run by hand), not a security measure; it must
// never change.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "REINSTALL_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "9645a9f67aa4f3b6583601deafed44c7920402952174439f15a92b7df179a0ee",
}

// VersionedPlugins is the go-plugin plugin set per protocol version. Plugins
// pass their implementation; the host passes nil.
func VersionedPlugins(p *Plugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: PluginSet(p)}
}

// PluginSet is the go-plugin plugin set of protocol version 1.
func PluginSet(p *Plugin) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: p}}
}

// GRPCPlugin is the go-plugin glue of the stage protocol: the plugin side
// serves Impl, the host side gets a *StageClient from Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's implementation; nil on the host.
	Impl *Plugin
	// Set, if not nil, is a plugin set's components by name, served
	// instead of Impl.
	Set map[string]*Plugin
	// Logger receives the server's diagnostics (panics, host-service
	// failures); nil discards them.
	Logger hclog.Logger
}

// GRPCServer registers the stage service (plugin side).
func (g *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	logger := g.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	srv := newStageServer(g.Impl, broker, logger)
	srv.set = g.Set
	stagev1.RegisterStageServer(s, srv)
	return nil
}

// GRPCClient returns the host's client of the stage service.
func (g *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &StageClient{stage: stagev1.NewStageClient(conn), broker: broker, hosting: &hosting{}}, nil
}
