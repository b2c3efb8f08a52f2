package sdk

import (
	"context"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Plugin is what one plugin binary serves.
type Plugin struct {
	Name    string
	Version string
	// Stages maps a stage kind (provision, reinstall-hook, swap, start,
	// configure, backup-retention) to its implementation.
	Stages map[string]Stage
	// Capabilities announces optional protocol features (minor versions).
	Capabilities []string
	// DefaultTimeouts is each stage kind's timeout where the pipeline sets
	// none; NoTimeout for none. A kind not listed gets the host's default
	// (2 hours).
	DefaultTimeouts map[string]time.Duration
}

// Stage is one stage kind implemented by a plugin.
type Stage interface {
	// Schema describes the stage body's attributes.
	Schema() Schema
	// Validate checks a decoded configuration before anything runs. Values not
	// known yet are reported by Config.IsKnown and must not be errors.
	Validate(ctx context.Context, cfg Config) Diagnostics
	// Run does the stage's work. Every change to disk is recorded with
	// req.Host.Journal before it is made, so Rollback can undo it.
	Run(ctx context.Context, req *RunRequest) (*Result, error)
}

// Rollbacker is implemented by stages that can undo their work.
type Rollbacker interface {
	// Rollback undoes what Run recorded in entries. It must be idempotent:
	// it may be called after a crash at any point of Run, or twice.
	Rollback(ctx context.Context, req *RollbackRequest) error
}

// RunRequest is everything a stage's Run gets.
type RunRequest struct {
	Config  Config
	Context RunContext
	Host    Host
	UI      UI
	// Logger writes diagnostics to the plugin's stderr: the host writes
	// every level (trace included) to the run's log file, under
	// "plugin.<plugin>.<stage>", and shows the operator the levels of
	// --log-level; what the operator should always see goes through UI.
	Logger hclog.Logger
}

// RollbackRequest is everything a stage's Rollback gets.
type RollbackRequest struct {
	Config  Config
	Context RunContext
	Host    Host
	UI      UI
	Logger  hclog.Logger
	Entries []JournalEntry
}

// Result is what a successful Run reports.
type Result struct {
	// Outputs become stage.<name>.<key> in later stages' expressions.
	Outputs map[string]string
	// Reprovision asks the host to discard the temporary private area and
	// run the provision stages before this one again.
	Reprovision bool
}

// RunContext describes the run. Paths are host paths, --root applied.
type RunContext struct {
	RunID     string
	StageName string
	StageKind string
	CTID      int // 0 for an LXC container, which has only a name
	CTName    string
	// VEID is the container as scripts name it (vps.reinstall --veid, the
	// VEID variable): the decimal CTID, or an LXC container's name.
	VEID            string
	HostRoot        string
	Private         string
	PrivateTmp      string
	PrivatePrevious string
	Trash           string
	VERoot          string
	OSTemplate      string
	TemplateFile    string
	Hostname        string
	Options         Options
	StageOutputs    map[string]map[string]string
	Config          map[string]string
	LogLevel        string
}

// HostPath resolves an absolute path from the pipeline or host config under
// the run's --root.
func (c RunContext) HostPath(p string) string {
	if c.HostRoot == "" || c.HostRoot == "/" {
		return p
	}
	return c.HostRoot + p
}

// Options are the run's command-line options.
type Options struct {
	SkipBackup bool
	Stop       bool
	// ResetPwDB keeps the template's passwd, shadow and group (--resetpwdb).
	ResetPwDB bool
	// SkipScripts runs no /etc/vz/reinstall.d hook (--skipscripts).
	SkipScripts bool
	// Scripts, when not empty, names the only reinstall.d hooks to run (--scripts).
	Scripts []string
	// NoHealth skips the default pipeline's health stage (--no-health).
	NoHealth bool
	Extra    map[string]string
}

// JournalEntry is one recorded sub-step.
type JournalEntry struct {
	Stage string
	Step  string
	Phase Phase
	Data  map[string]string
}

// Phase is where a journaled sub-step stands.
type Phase string

// The phases: a sub-step is journaled begun before it is done, and done after.
const (
	PhaseBegin Phase = "begin"
	PhaseDone  Phase = "done"
)

// State is the container's state as Host.Status reports it.
type State string

// The container's states.
const (
	StateRunning State = "running"
	StateStopped State = "stopped"
)

// Host is the set of services the host offers a running stage.
type Host interface {
	// Journal records a sub-step; the host fsyncs it before returning.
	Journal(ctx context.Context, step string, phase Phase, data map[string]string) error
	// Exec runs a command inside the running container.
	Exec(ctx context.Context, req ExecRequest) (exitCode int, err error)
	// ReadFile and WriteFile are confined to the new private area; path is
	// absolute as seen from inside the container.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	WriteFile(ctx context.Context, path string, data []byte, mode os.FileMode, makeParents bool) error
	// Probe tells whether a path exists in the new private area, resolving
	// symlinks as the container would, never out of it.
	Probe(ctx context.Context, path string) (Probe, error)
	// WriteFileOwned is WriteFile giving the file an owner (numeric, as
	// the container sees it) with its mode.
	WriteFileOwned(ctx context.Context, path string, data []byte, mode os.FileMode, owner Owner, makeParents bool) error
	// ReadOldFile reads a file of the old private area, wherever the swap
	// put it: at /old (kept) or parked for deletion (--skipbackup); before
	// the swap, the container's current area. path is absolute as seen
	// from inside the old container; no symlink is followed.
	ReadOldFile(ctx context.Context, path string) ([]byte, error)
	// ListDir lists a directory of the new or the old private area, sorted
	// by name, without following a symlink.
	ListDir(ctx context.Context, area Area, path string) ([]DirEntry, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Status(ctx context.Context) (State, error)
	// Secret returns the value of a sensitive attribute of the running
	// stage: sensitive values are never in Config (they are null there).
	// During a rollback made by `reinstall recover` it returns "" (the host
	// never writes secrets to its journal).
	Secret(ctx context.Context, name string) (string, error)
	// ListeningPorts lists the TCP ports (IPv4 and IPv6) listening in the
	// running container's network namespace, sorted, each once.
	ListeningPorts(ctx context.Context) ([]int, error)
}

// ExecRequest is a command to run inside the container.
type ExecRequest struct {
	Argv []string
	Env  []string
	// The command's stdin is Stdin, then StdinReader (if not nil) to its
	// end. Either may be of any size: it is streamed to the host in
	// messages of at most 1 MiB (a gRPC message is at most 4 MiB).
	Stdin       []byte
	StdinReader io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
}

// Probe is the answer of Host.Probe.
type Probe struct {
	Exists     bool
	Executable bool
	IsDir      bool
}

// UI reports to the operator; lines are tagged with the stage's name.
type UI interface {
	Log(level Level, msg string)
	// Progress reports one counter: done of total (0 = unknown) in unit.
	Progress(msg string, done, total int64, unit string)
	// Report reports a full progress record, e.g. bytes and files at once.
	Report(p Progress)
}

// Schema describes a stage body.
type Schema struct {
	Attributes []Attribute
	// Outputs are the values Run may return in Result.Outputs: the only
	// ones a pipeline can read (stage.<name>.<output>).
	Outputs []Output
	// Blocks are the nested block types the body may hold.
	Blocks []Block
}

// Nesting says how many of a block a body may hold.
type Nesting int

const (
	// NestingSingle: at most one; the stage receives an object (null when
	// left out).
	NestingSingle Nesting = iota
	// NestingList: any number; the stage receives a list of objects.
	NestingList
)

// Block is a nested block type of a stage body, such as
// server { url = "https://x" }: its attributes take the same types,
// defaults and enums as the body's own. Sensitive is not supported inside
// a block.
type Block struct {
	Name        string
	Nesting     Nesting
	Attributes  []Attribute
	Description string
}

// Output is one value a stage returns, declared in its Schema.
type Output struct {
	Name string
	// Type is string, number or bool; Result.Outputs carries the value as
	// a string ("3", "true") and the host converts it.
	Type        string
	Description string
}

// Attribute is one attribute of a stage body.
type Attribute struct {
	Name string
	// Type is an HCL type expression: string, number, bool, list(string), map(string).
	Type     string
	Required bool
	// Sensitive values reach the stage only through Host.Secret: the host
	// keeps them out of Config, the journal, logs and environments.
	Sensitive   bool
	Description string
	// Default is an optional attribute's value when it is left out: a
	// string, number or bool (or JSON of the attribute's type); nil: null.
	Default any
	// Enum lists the only values a string attribute may take.
	Enum []string
	// Whole: a number attribute takes whole numbers only.
	Whole bool
}

// Diagnostic is a problem found by Validate.
type Diagnostic struct {
	Warning bool
	Summary string
	Detail  string
	// Attribute names the attribute concerned; empty for the whole stage.
	Attribute string
}

// Diagnostics is a list of problems.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if !x.Warning {
			return true
		}
	}
	return false
}

// Stage kinds.
const (
	KindProvision       = "provision"
	KindReinstallHook   = "reinstall-hook"
	KindSwap            = "swap"
	KindStart           = "start"
	KindConfigure       = "configure"
	KindBackupRetention = "backup-retention"
)

// ScriptVEID is the container as scripts name it: VEID, or the decimal
// CTID when the host gave none.
func (rc RunContext) ScriptVEID() string {
	if rc.VEID != "" {
		return rc.VEID
	}
	return strconv.Itoa(rc.CTID)
}
