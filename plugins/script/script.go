package script

import (
	"path/filepath"

	"github.com/reinstall-dev/reinstall/internal/version"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Plugin returns the script plugin.
func Plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "script", Version: version.Version, Stages: map[string]sdk.Stage{
		sdk.KindReinstallHook: hook{},
		sdk.KindConfigure:     configure{},
	}}
}

// scriptPath is the PATH both scripts get (contract §2.2).
const scriptPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// config is a script stage's body.
type config struct {
	Script string `json:"script"`
}

var schema = sdk.Schema{Attributes: []sdk.Attribute{{
	Name:        "script",
	Type:        "string",
	Required:    true,
	Description: "absolute host path of the script (resolved under --root); a missing script means the default behaviour",
}}}

func validate(cfg sdk.Config) sdk.Diagnostics {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: "Invalid configuration", Detail: err.Error()}}
	}
	if cfg.IsKnown("script") && !filepath.IsAbs(c.Script) {
		return sdk.Diagnostics{{Summary: "Script path is not absolute", Detail: "script must be an absolute host path such as /etc/vz/conf/vps.reinstall; it is resolved under --root.", Attribute: "script"}}
	}
	return nil
}

// baseEnv is the documented environment of both scripts.
func baseEnv(veid string) []string {
	return []string{"HOME=/", scriptPath, "SHELL=/bin/sh", "VEID=" + veid}
}
