package sdk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// errNoHostServices is returned by Host calls when the host offered none
// (RunContext.host_services_id was 0).
var errNoHostServices = errors.New("the host offers no host services to this call")

// hostDialer keeps the plugin's one connection to the host services the
// host brokered for this process. It dials when a Run or Rollback names the
// services, because go-plugin's broker forgets connection info after 5s.
type hostDialer struct {
	broker *plugin.GRPCBroker
	mu     sync.Mutex
	id     uint32
	conn   *grpc.ClientConn
	client stagev1.HostServicesClient
}

// forStage returns the Host of one stage call; it is never nil, and on error
// its calls fail with that error. caps are the host's capabilities
// (RunContext.host_capabilities).
func (d *hostDialer) forStage(stage string, id uint32, caps []string, token string) (*hostClient, error) {
	if id == 0 {
		return &hostClient{stage: stage, err: errNoHostServices}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil || d.id != id {
		if d.conn != nil {
			_ = d.conn.Close()
			d.conn, d.client = nil, nil
		}
		conn, err := d.broker.Dial(id)
		if err != nil {
			err = fmt.Errorf("connect to host services %d: %w", id, err)
			return &hostClient{stage: stage, err: err}, err
		}
		d.id, d.conn, d.client = id, conn, stagev1.NewHostServicesClient(conn)
	}
	return &hostClient{stage: stage, token: token, c: d.client, streamStdin: slices.Contains(caps, capExecStdinStream), oldArea: slices.Contains(caps, capOldArea)}, nil
}

// hostClient is the Host a stage gets: HostServices calls over the broker.
type hostClient struct {
	stage string
	// token binds every call to this stage call (stagetoken.go).
	token string
	c     stagev1.HostServicesClient
	err   error
	// streamStdin: the host takes an Exec's stdin in several requests.
	streamStdin bool
	// oldArea: the host serves ReadOldFile, ListDir and WriteFileOwned.
	oldArea bool
}

var _ Host = (*hostClient)(nil)

func (h *hostClient) Journal(ctx context.Context, step string, phase Phase, data map[string]string) error {
	if h.err != nil {
		return h.err
	}
	_, err := h.c.Journal(withStageToken(ctx, h.token), &stagev1.JournalEntry{Stage: h.stage, Step: step, Phase: string(phase), Data: entriesToProto(data)})
	return fromStatus("journal", err)
}

func (h *hostClient) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if h.err != nil {
		return nil, h.err
	}
	resp, err := h.c.ReadFile(withStageToken(ctx, h.token), &stagev1.ReadFileRequest{Path: wire(path)})
	if err != nil {
		return nil, fromStatus("read "+path, err)
	}
	return resp.GetData(), nil
}

func (h *hostClient) WriteFile(ctx context.Context, path string, data []byte, mode os.FileMode, makeParents bool) error {
	if h.err != nil {
		return h.err
	}
	_, err := h.c.WriteFile(withStageToken(ctx, h.token), &stagev1.WriteFileRequest{Path: wire(path), Data: data, Mode: uint32(mode), MakeParents: makeParents})
	return fromStatus("write "+path, err)
}

func (h *hostClient) Probe(ctx context.Context, path string) (Probe, error) {
	if h.err != nil {
		return Probe{}, h.err
	}
	resp, err := h.c.Probe(withStageToken(ctx, h.token), &stagev1.ProbeRequest{Path: wire(path)})
	if err != nil {
		return Probe{}, fromStatus("probe "+path, err)
	}
	return Probe{Exists: resp.GetExists(), Executable: resp.GetExecutable(), IsDir: resp.GetIsDir()}, nil
}

func (h *hostClient) Start(ctx context.Context) error {
	if h.err != nil {
		return h.err
	}
	_, err := h.c.ContainerStart(withStageToken(ctx, h.token), &stagev1.ContainerRequest{})
	return fromStatus("start container", err)
}

func (h *hostClient) Stop(ctx context.Context) error {
	if h.err != nil {
		return h.err
	}
	_, err := h.c.ContainerStop(withStageToken(ctx, h.token), &stagev1.ContainerRequest{})
	return fromStatus("stop container", err)
}

func (h *hostClient) Status(ctx context.Context) (State, error) {
	if h.err != nil {
		return "", h.err
	}
	resp, err := h.c.ContainerStatus(withStageToken(ctx, h.token), &stagev1.ContainerRequest{})
	if err != nil {
		return "", fromStatus("container status", err)
	}
	return State(resp.GetState()), nil
}

func (h *hostClient) Secret(ctx context.Context, name string) (string, error) {
	if h.err != nil {
		return "", h.err
	}
	resp, err := h.c.GetSecret(withStageToken(ctx, h.token), &stagev1.GetSecretRequest{Name: name})
	if err != nil {
		return "", fromStatus("secret "+name, err)
	}
	return string(resp.GetValue()), nil
}

func (h *hostClient) ListeningPorts(ctx context.Context) ([]int, error) {
	if h.err != nil {
		return nil, h.err
	}
	resp, err := h.c.ListeningPorts(withStageToken(ctx, h.token), &stagev1.ListeningPortsRequest{})
	if err != nil {
		return nil, fromStatus("listening ports", err)
	}
	ports := make([]int, len(resp.GetPorts()))
	for i, p := range resp.GetPorts() {
		ports[i] = int(p)
	}
	return ports, nil
}

// emit sends an event outside a Run stream (see streamUI).
func (h *hostClient) emit(ctx context.Context, ev *stagev1.Event) error {
	if h.err != nil {
		return h.err
	}
	_, err := h.c.Emit(withStageToken(ctx, h.token), ev)
	return fromStatus("emit", err)
}

// HostError is a failed host-service call as the plugin sees it. It matches
// fs.ErrNotExist, fs.ErrPermission, context.Canceled and
// context.DeadlineExceeded with errors.Is when the host's error did.
type HostError struct {
	Op      string
	Code    codes.Code
	Message string
}

func (e *HostError) Error() string { return fmt.Sprintf("host %s: %s", e.Op, e.Message) }

func (e *HostError) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e.Code == codes.NotFound
	case fs.ErrPermission:
		return e.Code == codes.PermissionDenied
	case context.Canceled:
		return e.Code == codes.Canceled
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	}
	return false
}

func fromStatus(op string, err error) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	return &HostError{Op: op, Code: st.Code(), Message: st.Message()}
}
