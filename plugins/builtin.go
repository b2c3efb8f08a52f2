package plugins

import (
	"fmt"
	"os"
	"slices"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugins/copyfromold"
	"github.com/reinstall-dev/reinstall/plugins/credentials"
	"github.com/reinstall-dev/reinstall/plugins/health"
	"github.com/reinstall-dev/reinstall/plugins/provision"
	"github.com/reinstall-dev/reinstall/plugins/reinstallscripts"
	"github.com/reinstall-dev/reinstall/plugins/retention"
	"github.com/reinstall-dev/reinstall/plugins/script"
	"github.com/reinstall-dev/reinstall/plugins/start"
	"github.com/reinstall-dev/reinstall/plugins/swap"
)

var builtins = map[string]func() *sdk.Plugin{
	"provision":           provision.Plugin,
	"script":              script.Plugin,
	"swap":                swap.Plugin,
	"start":               start.Plugin,
	"backup-retention":    retention.Plugin,
	copyfromold.Name:      copyfromold.Plugin,
	credentials.Name:      credentials.Plugin,
	health.Name:           health.Plugin,
	reinstallscripts.Name: reinstallscripts.Plugin,
}

// Builtin returns the built-in plugin with the given name.
func Builtin(name string) (*sdk.Plugin, bool) {
	f, ok := builtins[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Names lists the built-in plugins, sorted.
func Names() []string {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Serve serves a built-in plugin on this process's stdio; it is what
// `reinstall __plugin <name>` runs, and it never returns on success.
func Serve(name string) int {
	p, ok := Builtin(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "reinstall: no built-in plugin %q (built-ins: %v)\n", name, Names())
		return 2
	}
	sdk.Serve(p)
	return 0
}
