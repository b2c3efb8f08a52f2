package pipeline

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reinstall-dev/reinstall/pipeline/journal"
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

// BuiltinPlugins names every plugin compiled into the reinstall binary
// (served as `reinstall __plugin <name>`); a test keeps it equal to the
// plugins package's list. It feeds "did you mean" for unknown plugins.
var BuiltinPlugins = []string{"backup-retention", "copy-from-old", "credentials", "health", "provision", "reinstall-scripts", "script", "start", "swap"}

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
	// Variables are the declared input variables, in file order.
	Variables []*Variable
	// Locals are the local values, in an order where each comes after the
	// locals it reads.
	Locals []*Local
	// RequiredPlugins pins external plugins: name -> lowercase hex SHA-256.
	RequiredPlugins map[string]string
	// RequiredPluginRanges says where each pin is written, for diagnostics.
	RequiredPluginRanges map[string]hcl.Range
	// Runtime is the pipeline block's runtime setting ("" when not set:
	// auto), and RuntimeRange where it is written.
	Runtime      string
	RuntimeRange hcl.Range
	// PluginDir is searched for external plugins before PluginDirs when
	// pluginDirRecorded: in a recovery, the $REINSTALL_PLUGIN_DIR the
	// interrupted run used ("" for none), whatever the caller's is now.
	PluginDir         string
	PluginDirRecorded bool
	// RecordedPlugins, in a recovery of a format 2 journal, are the only
	// external plugin files it launches (by name, pinned to their SHA-256).
	RecordedPlugins map[string]journal.RecordedPlugin

	// Values holds the input variables' Values once assigned; unset ones
	// are unknown while validating.
	Values map[string]cty.Value
	// Sources holds the content of the files diagnostics may point into:
	// the pipeline file and any --var-file.
	Sources map[string][]byte
}

// Variable is one `variable "<name>"` block.
type Variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value // meaningful when HasDefault
	HasDefault  bool      // false: the variable is required
	Description string
	Sensitive   bool
	DefRange    hcl.Range
}

// Required reports whether the variable has no default.
func (v *Variable) Required() bool { return !v.HasDefault }

// Local is one attribute of a `locals` block.
type Local struct {
	Name  string
	Expr  hcl.Expression
	Range hcl.Range // the whole `name = expr`
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

	DefRange       hcl.Range
	KindRange      hcl.Range
	PluginRange    hcl.Range
	OnFailureRange hcl.Range // the on_failure value, else the block
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
