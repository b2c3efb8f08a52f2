// Command reinstall-plugin-acme-license is an example vendor plugin for
// reinstall, built against plugin-sdk alone: a configure stage that installs
// ACME's license key in the freshly reinstalled container and activates it.
//
//	stage "configure" "license" {
//	  plugin      = "acme-license"
//	  license_key = var.license_key # sensitive: it reaches the plugin only through Host.Secret
//	  product     = "acme-panel"    # the key goes to /etc/acme-panel/license.key, mode 0600
//	}
//
// Build it with `make`, install it with `make install`, and pin the SHA-256
// that `make sha256` prints in the pipeline's required_plugins block.
package main

import (
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "1.0.0"

// pluginName is what reinstall knows the plugin as: its file is
// reinstall-plugin-<pluginName>, and pipelines say plugin = "<pluginName>".
const pluginName = "acme-license"

func newPlugin() *sdk.Plugin {
	return &sdk.Plugin{
		Name:    pluginName,
		Version: version,
		Stages: map[string]sdk.Stage{
			sdk.KindConfigure: licenseStage{},
		},
	}
}

func main() {
	// Serve first: stdout carries the handshake with reinstall.
	sdk.Serve(newPlugin())
}
