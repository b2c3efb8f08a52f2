package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// Host.Exec over the protocol. A command's stdin (a vps.configure script
// of any size, say) travels in ExecRequest messages of at most
// stdinChunk bytes, to a host that announces capExecStdinStream; the
// command's output comes back as it is written.

// capExecStdinStream is the host capability of a streamed Exec stdin.
const capExecStdinStream = "exec-stdin-stream"

// hostCapabilities are what the SDK's host side serves.
var hostCapabilities = []string{capExecStdinStream, capOldArea}

// stdinChunk is the most stdin one ExecRequest carries: well below gRPC's
// 4 MiB limit of a message.
const stdinChunk = 1 << 20

func (h *hostClient) Exec(ctx context.Context, req ExecRequest) (int, error) {
	if h.err != nil {
		return -1, h.err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stdin := io.Reader(bytes.NewReader(req.Stdin))
	if req.StdinReader != nil {
		stdin = io.MultiReader(stdin, req.StdinReader)
	}
	first := &stagev1.ExecRequest{Argv: wireList(req.Argv), Env: wireList(req.Env)}
	if !h.streamStdin {
		// A host from before the stream takes one request: all of stdin.
		data, err := io.ReadAll(stdin)
		if err != nil {
			return -1, fmt.Errorf("host exec: read stdin: %w", err)
		}
		first.Stdin, stdin = data, nil
	}
	stream, err := h.c.Exec(withStageToken(ctx, h.token))
	if err != nil {
		return -1, fromStatus("exec", err)
	}
	if err := stream.Send(first); err != nil {
		return -1, fromStatus("exec", recvError(stream, err))
	}
	sent := make(chan error, 1)
	go func() { sent <- sendStdin(stream, stdin) }()
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return -1, errors.New("host exec: the stream ended without an exit code")
		}
		if err != nil {
			return -1, fromStatus("exec", err)
		}
		switch e := ev.GetEvent().(type) {
		case *stagev1.ExecEvent_Stdout:
			err = writeTo(req.Stdout, e.Stdout)
		case *stagev1.ExecEvent_Stderr:
			err = writeTo(req.Stderr, e.Stderr)
		case *stagev1.ExecEvent_ExitCode:
			// A command may exit before reading all of its stdin: what
			// is left unsent is not an error.
			return int(e.ExitCode), nil
		}
		if err != nil {
			return -1, fmt.Errorf("host exec: copy output: %w", err)
		}
		select {
		case err := <-sent:
			if err != nil {
				return -1, err
			}
		default:
		}
	}
}

// sendStdin sends the rest of stdin (nil: none) and ends the client's
// stream, which ends the command's stdin.
func sendStdin(stream stagev1.HostServices_ExecClient, stdin io.Reader) error {
	if stdin != nil {
		buf := make([]byte, stdinChunk)
		for {
			n, err := io.ReadFull(stdin, buf)
			if n > 0 {
				if serr := stream.Send(&stagev1.ExecRequest{Stdin: buf[:n]}); serr != nil {
					return nil // the host ended the call; Recv says why
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				_ = stream.CloseSend()
				return fmt.Errorf("host exec: read stdin: %w", err)
			}
		}
	}
	_ = stream.CloseSend()
	return nil
}

// recvError is the host's reason for a failed Send: gRPC reports a
// stream the server ended as io.EOF on Send, its status on Recv.
func recvError(stream stagev1.HostServices_ExecClient, err error) error {
	if !errors.Is(err, io.EOF) {
		return err
	}
	if _, rerr := stream.Recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
		return rerr
	}
	return err
}

func writeTo(w io.Writer, p []byte) error {
	if w == nil {
		return nil
	}
	_, err := w.Write(p)
	return err
}

// Exec serves Host.Exec: the first request starts the command, the later
// ones feed its stdin until the client's stream ends.
func (s *hostServer) Exec(stream stagev1.HostServices_ExecServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	var mu sync.Mutex // the runtime may copy stdout and stderr concurrently
	send := func(ev *stagev1.ExecEvent) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(ev)
	}
	stdin, feed := io.Pipe()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				feed.Close()
				return
			}
			if err != nil {
				feed.CloseWithError(err)
				return
			}
			if _, err := feed.Write(m.GetStdin()); err != nil {
				return // the command is done with its stdin
			}
		}
	}()
	code, err := s.h.Exec(stream.Context(), ExecRequest{
		Argv:        textList(first.GetArgv()),
		Env:         textList(first.GetEnv()),
		Stdin:       first.GetStdin(),
		StdinReader: stdin,
		Stdout:      chunkWriter(func(p []byte) error { return send(&stagev1.ExecEvent{Event: &stagev1.ExecEvent_Stdout{Stdout: p}}) }),
		Stderr:      chunkWriter(func(p []byte) error { return send(&stagev1.ExecEvent{Event: &stagev1.ExecEvent_Stderr{Stderr: p}}) }),
	})
	// The stream is the feeding goroutine's until it ends: closing stdin
	// ends a write it waits in; a Recv it waits in ends with the client's
	// next request, its end of stdin, or its leaving once it has the exit
	// code (the SDK's client sends the rest of stdin, then ends the stream).
	stdin.Close()
	if err != nil {
		<-fed
		return toStatus(err)
	}
	err = send(&stagev1.ExecEvent{Event: &stagev1.ExecEvent_ExitCode{ExitCode: int32(code)}})
	<-fed
	return err
}

// chunkWriter sends every Write as one message (Send marshals before it
// returns, so p is not retained).
type chunkWriter func([]byte) error

func (w chunkWriter) Write(p []byte) (int, error) {
	if err := w(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
