package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Host services are bound to the stage call that uses them. The host
// issues a token for each Run and Rollback call (RunContext.stage_token),
// valid until that call returns; the SDK sends it with every HostServices
// call the stage makes. The host serves a call as the token's stage, and
// refuses one without a live token: a goroutine that outlives its stage
// can neither read another stage's secrets nor journal under its name.

// stageTokenKey is the gRPC metadata key that carries the token.
const stageTokenKey = "reinstall-stage-token"

// ErrStageReturned is the host's answer to a host-service call whose stage
// call has returned (or that carries no stage token).
var ErrStageReturned = errors.New("host services refused: the stage that made this call has returned, or the call carries no stage token")

// stageTokens are the live tokens of one plugin process's stage calls.
type stageTokens struct {
	mu   sync.Mutex
	live map[string]string // token → stage name
}

// issue returns a new token for a call of stage and the func that ends it.
func (t *stageTokens) issue(stage string) (string, func()) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("stage token: " + err.Error()) // crypto/rand never fails on Linux
	}
	token := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == nil {
		t.live = map[string]string{}
	}
	t.live[token] = stage
	return token, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.live, token)
	}
}

// bind returns ctx carrying the stage of the call's live token.
func (t *stageTokens) bind(ctx context.Context) (context.Context, error) {
	var token string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(stageTokenKey); len(v) == 1 {
			token = v[0]
		}
	}
	t.mu.Lock()
	stage, ok := t.live[token]
	t.mu.Unlock()
	if token == "" || !ok {
		return ctx, status.Error(codes.PermissionDenied, ErrStageReturned.Error())
	}
	return context.WithValue(ctx, callingStageKey{}, stage), nil
}

// interceptors bind every unary and streaming HostServices call.
func (t *stageTokens) interceptors() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			ctx, err := t.bind(ctx)
			if err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			ctx, err := t.bind(ss.Context())
			if err != nil {
				return err
			}
			return next(srv, boundStream{ss, ctx})
		}),
	}
}

type boundStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s boundStream) Context() context.Context { return s.ctx }

type callingStageKey struct{}

// CallingStage is, in a HostServer method, the name of the stage whose
// call is being served (by its token); "" outside one.
func CallingStage(ctx context.Context) string {
	s, _ := ctx.Value(callingStageKey{}).(string)
	return s
}

// WithCallingStage returns ctx as a HostServer method sees a call of
// stage; for tests of a HostServer.
func WithCallingStage(ctx context.Context, stage string) context.Context {
	return context.WithValue(ctx, callingStageKey{}, stage)
}

// withStageToken adds a stage's token to an outgoing host-service call.
func withStageToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, stageTokenKey, token)
}
