package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"golang.org/x/sys/unix"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Defaults of a Launcher.
const (
	DefaultStartTimeout = 30 * time.Second
	DefaultSelfExe      = "/proc/self/exe"
	DefaultPath         = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// maxSocketPath keeps unix socket paths clear of the 108-byte sun_path limit.
// go-plugin adds "/plugin-dirNNNNNNNNNN/pluginNNNNNNNNNN" to the socket directory.
const (
	maxSocketPath    = 100
	socketPathSuffix = len("/plugin-dir") + 10 + len("/plugin") + 10
)

// Launcher starts plugin processes for a run.
type Launcher struct {
	// Logger receives go-plugin's messages and each plugin's log lines at
	// the levels it shows, as Logger.Named("<name>[.<stage>]").
	Logger hclog.Logger
	// LogFile, if set, is the run's log file alone: it receives the plugin
	// lines Logger does not show (every level down to trace) and a crashed
	// plugin's stack, which stay off the operator's terminal. Nil: Logger
	// takes everything, stacks at debug level.
	LogFile hclog.Logger
	// SocketDir holds the plugins' unix sockets; it is created with mode
	// 0700 and must be a real directory owned by this process's user: only
	// who can enter it can connect to a plugin, which is why the connection
	// needs no TLS. Keep it short (e.g. <root>/run/reinstall/plugins).
	SocketDir string
	// CgroupDir, if set, is a cgroup2 directory (created by the caller) that
	// every plugin process starts in.
	CgroupDir string
	// StartTimeout bounds the handshake (default 30s).
	StartTimeout time.Duration
	// SelfExe runs built-in plugins as `SelfExe __plugin <name>` (default /proc/self/exe).
	SelfExe string
	// Env is the plugins' whole environment (the host's is never passed on);
	// nil means PATH only.
	Env []string
}

// Spec names the plugin to launch.
type Spec struct {
	// Name is the plugin's name, used in messages and as its logger's name.
	Name string
	// Path is an external plugin binary; "" runs the built-in Name.
	Path string
	// SHA256 (hex), if set, must match the binary before it is started.
	SHA256 string
}

// Launch starts a plugin process, completes the handshake and serves svc to
// it (nil for a plugin only asked about itself: its stages' host calls then
// fail). An external plugin (spec.Path) must pass CheckTrusted and match
// spec.SHA256 if set; the file checked is the file executed. The caller
// must Close the Plugin. ctx bounds the start only.
func (l *Launcher) Launch(ctx context.Context, spec Spec, svc Services) (*Plugin, error) {
	if spec.Name == "" {
		return nil, errors.New("launch plugin: no name")
	}
	if err := l.prepareSocketDir(); err != nil {
		return nil, fmt.Errorf("launch plugin %s: %w", spec.Name, err)
	}
	path, args := l.command(spec)
	var bin *os.File
	if spec.Path != "" {
		var err error
		if bin, err = openExternal(spec); err != nil {
			return nil, err
		}
		// Execute the very inode that was checked and hashed: a file swapped
		// in after the checks is never run (go-plugin's SecureConfig hashes
		// the path, then executes the path).
		path = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), bin.Fd())
	}
	p, err := l.start(ctx, spec, path, args)
	if err != nil {
		if bin != nil {
			bin.Close()
		}
		return nil, err
	}
	p.bin = bin
	if svc != nil {
		p.stage.ServeHost(svc)
	}
	return p, nil
}

// openExternal opens an external plugin's file, checks who can change it
// and, if a checksum is pinned, that the file is the pinned one.
func openExternal(spec Spec) (*os.File, error) {
	bin, err := openTrusted(spec.Path)
	var ue *UntrustedError
	switch {
	case errors.As(err, &ue):
		return nil, fmt.Errorf("plugin %s: refusing to start %s: %s", spec.Name, spec.Path, ue.Reason)
	case err != nil:
		return nil, fmt.Errorf("plugin %s: %w", spec.Name, err)
	}
	if spec.SHA256 != "" {
		if err := verifySHA256(spec.Name, bin, spec.SHA256); err != nil {
			bin.Close()
			return nil, err
		}
	}
	return bin, nil
}

// start runs the plugin process and completes the handshake.
func (l *Launcher) start(ctx context.Context, spec Spec, path string, args []string) (*Plugin, error) {
	out := newPluginOutput(spec.Name, l.logger(), l.LogFile, stderrTailLines)
	proc := newProcess(spec.Name, path, args, l.env(), l.CgroupDir, out.source("stderr"))
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		RunnerFunc:       proc.runnerFunc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// No AutoMTLS: the sockets sit in a 0700 directory of ours, so any
		// process that can connect could as well ptrace both ends; the
		// per-launch key pairs and TLS handshake bought nothing but time.
		Managed:          true,
		StartTimeout:     l.startTimeout(),
		SkipHostEnv:      true,
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: l.SocketDir},
		// The plugin's os.Stdout and os.Stderr after the handshake.
		SyncStdout: out.source("stdio-stdout"),
		SyncStderr: out.source("stdio-stderr"),
		Logger:     l.logger(),
	})
	stopWatch := context.AfterFunc(ctx, proc.kill)
	rpc, err := client.Client()
	stopWatch()
	if err != nil {
		client.Kill() // waits for the stderr copy, so the tail is complete
		return nil, l.startError(ctx, spec, err, out, proc)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: %w", spec.Name, err)
	}
	stage, ok := raw.(*sdk.StageClient)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: unexpected client type %T", spec.Name, raw)
	}
	return &Plugin{name: spec.Name, client: client, proc: proc, stage: stage, out: out, logger: l.logger(), lifecycle: &lifecycle{}}, nil
}

// command is the plugin's executable and argv.
func (l *Launcher) command(spec Spec) (string, []string) {
	if spec.Path != "" {
		return spec.Path, []string{spec.Path}
	}
	self := l.SelfExe
	if self == "" {
		self = DefaultSelfExe
	}
	return self, []string{self, "__plugin", spec.Name}
}

func (l *Launcher) prepareSocketDir() error {
	if l.SocketDir == "" {
		return errors.New("no plugin socket directory configured")
	}
	if n := len(l.SocketDir) + socketPathSuffix; n >= maxSocketPath {
		return fmt.Errorf("plugin socket directory %s is too long: its sockets would have %d-byte paths, over the %d-byte limit (use a shorter --root)",
			l.SocketDir, n, maxSocketPath)
	}
	if err := os.MkdirAll(l.SocketDir, 0o700); err != nil {
		return fmt.Errorf("create plugin socket directory: %w", err)
	}
	// Opened without following a symlink, checked and restricted through
	// the same descriptor: the directory checked is the one used.
	fd, err := unix.Open(l.SocketDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("plugin socket directory %s must be a real directory: %w", l.SocketDir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("plugin socket directory %s: %w", l.SocketDir, err)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("plugin socket directory %s belongs to uid %d, not to this process (uid %d): remove it or fix its owner",
			l.SocketDir, st.Uid, os.Geteuid())
	}
	if err := os.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), 0o700); err != nil {
		return fmt.Errorf("restrict plugin socket directory: %w", err)
	}
	return nil
}

func (l *Launcher) env() []string {
	if l.Env == nil {
		return []string{DefaultPath}
	}
	return l.Env
}

func (l *Launcher) startTimeout() time.Duration {
	if l.StartTimeout > 0 {
		return l.StartTimeout
	}
	return DefaultStartTimeout
}

func (l *Launcher) logger() hclog.Logger {
	if l.Logger == nil {
		return hclog.NewNullLogger() // go-plugin's default logs everything to stderr
	}
	return l.Logger
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// startError rewrites go-plugin's start failures into one readable line
// naming the plugin.
func (l *Launcher) startError(ctx context.Context, spec Spec, err error, tail *pluginOutput, proc *process) error {
	msg := err.Error()
	const unrecognized = "Unrecognized remote plugin message: "
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("plugin %s: start cancelled: %w", spec.Name, ctx.Err())
	case strings.HasPrefix(msg, unrecognized):
		line, _, _ := strings.Cut(strings.TrimPrefix(msg, unrecognized), "\n")
		if line != "" {
			return fmt.Errorf("plugin %s wrote to stdout before the handshake (plugins must log to stderr): %s", spec.Name, line)
		}
		return fmt.Errorf("plugin %s exited before the handshake%s", spec.Name, detail(tail.summary(), proc.exitStatus()))
	case strings.HasPrefix(msg, "incompatible API version with plugin"):
		theirs := "an unknown version"
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			theirs = "version " + m[1]
		}
		return fmt.Errorf("plugin %s speaks stage protocol %s, but this reinstall speaks version %d: install a build of the plugin made with a plugin-sdk for protocol %d",
			spec.Name, theirs, sdk.ProtocolVersion, sdk.ProtocolVersion)
	case strings.HasPrefix(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugin %s did not complete the handshake within %s%s", spec.Name, l.startTimeout(), detail(tail.summary(), ""))
	case strings.HasPrefix(msg, "plugin exited before we could connect"):
		return fmt.Errorf("plugin %s exited before the handshake%s", spec.Name, detail(tail.summary(), proc.exitStatus()))
	}
	return fmt.Errorf("plugin %s: %w", spec.Name, err)
}

// detail formats ": <stderr line> (<exit status>)" with what is known.
func detail(line, status string) string {
	switch {
	case line != "" && status != "":
		return fmt.Sprintf(": %s (%s)", line, status)
	case line != "":
		return ": " + line
	case status != "":
		return ": " + status
	}
	return ""
}
