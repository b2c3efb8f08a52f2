package sdk

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Serve serves p to the reinstall host on this process's stdio. It must be
// the first thing main calls: nothing may be written to stdout before it
// (stdout carries the handshake), and logs belong on stderr. It returns when
// the host closes the plugin.
func Serve(p *Plugin) {
	name := ""
	if p != nil {
		name = p.Name
	}
	serve(name, &GRPCPlugin{Impl: p}, p.check)
}

// ServeSet serves a plugin set: several named components from one binary,
// each a Plugin of its own. A pipeline names one as "<binary>.<component>"
// (plugin "acme.backup" is component "backup" of reinstall-plugin-acme);
// the host starts the binary once and names the component in every call.
// Component names are lower-case letters, digits, '-' and '_'.
func ServeSet(set map[string]*Plugin) {
	serve(filepath.Base(os.Args[0]), &GRPCPlugin{Set: set}, func() error { return checkSet(set) })
}

// checkSet rejects a set with no component, a badly named one, or one
// that could not serve.
func checkSet(set map[string]*Plugin) error {
	if len(set) == 0 {
		return fmt.Errorf("sdk.ServeSet: the plugin set has no component")
	}
	for name, p := range set {
		if !componentNameRE.MatchString(name) {
			return fmt.Errorf("sdk.ServeSet: component name %q: use lower-case letters, digits, '-' and '_'", name)
		}
		if err := p.check(); err != nil {
			return fmt.Errorf("component %s: %w", name, err)
		}
	}
	return nil
}

var componentNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func serve(name string, gp *GRPCPlugin, check func() error) {
	// Capture stderr before go-plugin swaps os.Stderr for its stdio stream.
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      logLevelFromEnv(),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	if err := check(); err != nil {
		logger.Error("refusing to serve", "error", err)
		os.Exit(1)
	}
	gp.Logger = logger
	if err := detachStdin(); err != nil {
		logger.Warn("could not replace stdin with /dev/null", "error", err)
	}
	// A host that dies closes the pipes of the plugin's stdout and stderr;
	// the next log line must not kill the plugin with SIGPIPE before the
	// watchdog has ended what the plugin started.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go watchParent(logger, os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: gp}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.ChainUnaryInterceptor(recoverUnary(logger)),
				grpc.ChainStreamInterceptor(recoverStream(logger)))
			return plugin.DefaultGRPCServer(opts)
		},
		// go-plugin's own messages ("plugin address"...) under a name of their
		// own, so the host can tell them from the plugin's last words.
		Logger: logger.Named("go-plugin"),
	})
}

// check rejects a Plugin that could not serve any stage.
func (p *Plugin) check() error {
	if p == nil || p.Name == "" {
		return fmt.Errorf("sdk.Serve: the plugin has no name")
	}
	if len(p.Stages) == 0 {
		return fmt.Errorf("sdk.Serve: plugin %s implements no stage kind", p.Name)
	}
	for kind, st := range p.Stages {
		if st == nil {
			return fmt.Errorf("sdk.Serve: plugin %s: stage kind %q has a nil implementation", p.Name, kind)
		}
	}
	return nil
}

// logLevelFromEnv reads REINSTALL_PLUGIN_LOG_LEVEL (default trace: the host
// writes every level to the run's log file and shows the operator its own).
func logLevelFromEnv() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv("REINSTALL_PLUGIN_LOG_LEVEL")); l != hclog.NoLevel {
		return l
	}
	return hclog.Trace
}

// detachStdin points fd 0 and os.Stdin at /dev/null: plugins never read
// stdin, and the host's terminal must not be shared with them.
func detachStdin() error {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	if err := unix.Dup2(int(null.Fd()), 0); err != nil {
		_ = null.Close()
		return fmt.Errorf("dup2 /dev/null over stdin: %w", err)
	}
	os.Stdin = null
	return nil
}

// watchParent exits when the host that started the plugin is gone (the
// parent pid changes: orphans are re-parented). A plugin started by pid 1
// cannot tell, and is left to the host's cleanup. Before exiting it kills
// its process group, if it leads one, so its own children go too.
func watchParent(logger hclog.Logger, parent int, every time.Duration) {
	if parent <= 1 {
		return
	}
	for range time.Tick(every) {
		if now := os.Getppid(); now != parent {
			logger.Error("the reinstall host is gone; stopping the plugin", "parent", parent, "now", now)
			if unix.Getpgrp() == os.Getpid() {
				_ = unix.Kill(-os.Getpid(), unix.SIGKILL)
			}
			os.Exit(3)
		}
	}
}

// recoverUnary turns a handler's panic into an Internal error and logs the
// stack; stage methods are already guarded with a stage-level message.
func recoverUnary(logger hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer recoverCall(logger, info.FullMethod, &err)
		return handler(ctx, req)
	}
}

func recoverStream(logger hclog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer recoverCall(logger, info.FullMethod, &err)
		return handler(srv, ss)
	}
}

func recoverCall(logger hclog.Logger, method string, err *error) {
	if r := recover(); r != nil {
		logger.Error("plugin panicked", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = statusError(codes.Internal, fmt.Sprintf("plugin panicked in %s: %v", method, r))
	}
}
