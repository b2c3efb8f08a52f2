// Command reinstall reinstalls Virtuozzo/OpenVZ-style system containers on a
// fresh OS template through a pipeline of plugin stages, keeping the old
// files at /old. See the README for the CLI and the pipeline language.
package main

import (
	"os"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/reinstall-dev/reinstall/internal/runtime"
	"github.com/reinstall-dev/reinstall/plugins"
)

func main() {
	// Hidden entry points run before the CLI: a plugin must not write to
	// stdout before its handshake, and the runtime's helpers are re-execs.
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__plugin":
			if len(os.Args) < 3 {
				os.Exit(2)
			}
			os.Exit(plugins.Serve(os.Args[2]))
		case "__ctmon":
			os.Exit(runtime.MonitorMain(os.Args[2:]))
		case "__ctinit":
			os.Exit(runtime.InitMain(os.Args[2:]))
		case "__ctenter":
			os.Exit(runtime.EnterMain(os.Args[2:]))
		}
	}
	code := execute(os.Args[1:])
	goplugin.CleanupClients()
	os.Exit(code)
}
