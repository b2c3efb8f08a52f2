//go:build linux

package runtime

import (
	"context"
	"errors"
	"io"
	"time"
)

// Spec describes a container to start.
type Spec struct {
	CTID     int
	Private  string // host path of the private area (the container's root fs), a real directory
	Root     string // host path of VE_ROOT, the mount point (created if missing)
	Hostname string // may be empty: then the container's own /etc/hostname is used
	Init     string // absolute path inside the container, e.g. /sbin/init
}

// State is a container's run state.
type State string

const (
	Running State = "running"
	Stopped State = "stopped"
)

// ExecRequest is a command to run inside a running container.
type ExecRequest struct {
	Argv   []string
	Env    []string  // exactly this environment, nothing else
	Stdin  io.Reader // nil = /dev/null
	Stdout io.Writer // nil = /dev/null
	Stderr io.Writer // nil = /dev/null
}

// Info describes a running container.
type Info struct {
	CTID       int
	InitPID    int // host pid of the container's init
	MonitorPID int
	Started    time.Time
	Private    string
	Root       string
}

// Runtime runs system containers.
type Runtime interface {
	// Start starts the container; an error wraps ErrRunning if it already runs.
	Start(ctx context.Context, s Spec) error
	// Stop asks the init to stop, kills it after grace and returns once no
	// process of the container is left; a stopped container is not an error.
	Stop(ctx context.Context, ctid int, grace time.Duration) error
	Status(ctx context.Context, ctid int) (State, error)
	// Exec runs a command inside the container and returns its exit code
	// (128+signal if killed); an error wraps ErrNotRunning if it is stopped.
	Exec(ctx context.Context, ctid int, req ExecRequest) (exitCode int, err error)
	// List returns the running containers known to the state directory.
	List(ctx context.Context) ([]Info, error)
	// ListeningPorts lists the TCP ports (IPv4 and IPv6) in LISTEN state in
	// the running container's network namespace, sorted, each once; an
	// error wraps ErrNotRunning if it is stopped.
	ListeningPorts(ctx context.Context, ctid int) ([]int, error)
}

// Locker is a runtime whose container manager has a lock of its own on a
// container (LXC's), which a caller holding the tool's lock takes as well.
type Locker interface {
	LockContainer(ctx context.Context, ctid int) (release func(), err error)
}

// Sentinel errors callers branch on (errors.Is).
var (
	ErrRunning    = errors.New("container is running")     // Start on a running container
	ErrNotRunning = errors.New("container is not running") // Exec on a stopped one
)

var _ Runtime = (*Native)(nil)
