package sdk

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"google.golang.org/grpc/codes"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// HostServer is what a host serves one plugin process: the Host services
// plus Emit for events a stage sends outside its Run stream. reinstall's
// runner and sdktest.FakeHost implement it. Every call is made by a stage
// call that is running: CallingStage(ctx) names it (Emit's stage too).
type HostServer interface {
	Host
	Emit(stage string, ev Event)
}

// hostServer serves HostServices in the host, converting calls to a
// HostServer, each bound to the stage whose token it carries.
type hostServer struct {
	stagev1.UnimplementedHostServicesServer
	h HostServer
	// tokens bind each call to the stage call that made it (stagetoken.go).
	tokens stageTokens
}

func (s *hostServer) Journal(ctx context.Context, e *stagev1.JournalEntry) (*stagev1.Empty, error) {
	return &stagev1.Empty{}, toStatus(s.h.Journal(ctx, e.GetStep(), Phase(e.GetPhase()), entriesFromProto(e.GetData())))
}

func (s *hostServer) ReadFile(ctx context.Context, req *stagev1.ReadFileRequest) (*stagev1.ReadFileResponse, error) {
	data, err := s.h.ReadFile(ctx, string(req.GetPath()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &stagev1.ReadFileResponse{Data: data}, nil
}

func (s *hostServer) WriteFile(ctx context.Context, req *stagev1.WriteFileRequest) (*stagev1.Empty, error) {
	var err error
	if o := req.GetOwner(); o != nil {
		owner := Owner{UID: int(o.GetUid()), GID: int(o.GetGid())}
		err = s.h.WriteFileOwned(ctx, string(req.GetPath()), req.GetData(), os.FileMode(req.GetMode()), owner, req.GetMakeParents())
	} else {
		err = s.h.WriteFile(ctx, string(req.GetPath()), req.GetData(), os.FileMode(req.GetMode()), req.GetMakeParents())
	}
	return &stagev1.Empty{}, toStatus(err)
}

func (s *hostServer) Probe(ctx context.Context, req *stagev1.ProbeRequest) (*stagev1.ProbeResponse, error) {
	p, err := s.h.Probe(ctx, string(req.GetPath()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &stagev1.ProbeResponse{Exists: p.Exists, Executable: p.Executable, IsDir: p.IsDir}, nil
}

func (s *hostServer) ContainerStart(ctx context.Context, _ *stagev1.ContainerRequest) (*stagev1.Empty, error) {
	return &stagev1.Empty{}, toStatus(s.h.Start(ctx))
}

func (s *hostServer) ContainerStop(ctx context.Context, _ *stagev1.ContainerRequest) (*stagev1.Empty, error) {
	return &stagev1.Empty{}, toStatus(s.h.Stop(ctx))
}

func (s *hostServer) ContainerStatus(ctx context.Context, _ *stagev1.ContainerRequest) (*stagev1.ContainerStatusResponse, error) {
	state, err := s.h.Status(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &stagev1.ContainerStatusResponse{State: string(state)}, nil
}

func (s *hostServer) Emit(ctx context.Context, ev *stagev1.Event) (*stagev1.Empty, error) {
	stage := CallingStage(ctx)
	if e, ok := eventFromProto(stage, ev); ok {
		s.h.Emit(stage, e)
	}
	return &stagev1.Empty{}, nil
}

func (s *hostServer) GetSecret(ctx context.Context, req *stagev1.GetSecretRequest) (*stagev1.GetSecretResponse, error) {
	v, err := s.h.Secret(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &stagev1.GetSecretResponse{Value: wire(v)}, nil
}

func (s *hostServer) ListeningPorts(ctx context.Context, _ *stagev1.ListeningPortsRequest) (*stagev1.ListeningPortsResponse, error) {
	ports, err := s.h.ListeningPorts(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &stagev1.ListeningPortsResponse{Ports: make([]uint32, len(ports))}
	for i, p := range ports {
		resp.Ports[i] = uint32(p)
	}
	return resp, nil
}

// toStatus keeps the error classes a plugin may branch on (see HostError).
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return statusError(codes.NotFound, err.Error())
	case errors.Is(err, fs.ErrPermission):
		return statusError(codes.PermissionDenied, err.Error())
	case errors.Is(err, context.Canceled):
		return statusError(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return statusError(codes.DeadlineExceeded, err.Error())
	}
	return statusError(codes.Unknown, err.Error())
}
