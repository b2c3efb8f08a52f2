package pipeline

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Stage kinds, in the order a pipeline may use them.
const (
	KindProvision       = "provision"
	KindReinstallHook   = "reinstall-hook"
	KindSwap            = "swap"
	KindStart           = "start"
	KindConfigure       = "configure"
	KindBackupRetention = "backup-retention"
)

// Kinds lists every stage kind.
var Kinds = []string{KindProvision, KindReinstallHook, KindSwap, KindStart, KindConfigure, KindBackupRetention}

// BuiltinPlugin names the built-in plugin that serves each kind by default.
var BuiltinPlugin = map[string]string{
	KindProvision:       "provision",
	KindReinstallHook:   "script",
	KindSwap:            "swap",
	KindStart:           "start",
	KindConfigure:       "script",
	KindBackupRetention: "backup-retention",
}

// On-failure policies.
const (
	OnFailureRollback = "rollback"
	OnFailureContinue = "continue"
)

// Pipeline is a decoded pipeline file.
type Pipeline struct {
	Name     string
	Filename string
	Source   []byte
	Stages   []*Stage
}

// Stage is one `stage "<kind>" "<name>"` block. Its plugin-owned attributes
// stay in Body until the plugin's schema is known.
type Stage struct {
	Kind      string
	Name      string
	Plugin    string
	Timeout   time.Duration // 0: none
	When      hcl.Expression
	OnFailure string
	Body      hcl.Body

	DefRange    hcl.Range
	KindRange   hcl.Range
	PluginRange hcl.Range
}

// Stage returns the stage with the given name, or nil.
func (p *Pipeline) Stage(name string) *Stage {
	for _, s := range p.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Plugins returns the distinct plugin names the pipeline uses, in first-use order.
func (p *Pipeline) Plugins() []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range p.Stages {
		if !seen[s.Plugin] {
			seen[s.Plugin] = true
			names = append(names, s.Plugin)
		}
	}
	return names
}
