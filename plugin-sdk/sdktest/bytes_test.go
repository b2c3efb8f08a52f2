package sdktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// odd are texts no proto3 string may hold, and some that it may: every one
// must cross the protocol byte for byte, whichever way and in whichever field.
var odd = []string{"Jos\xe9", "\xff\xfe", "\xed\xa0\x80 surrogate", "cut \xe2\x82", "nul \x00 and \x1b[2J", "ünïcödé ✓"}

// echoStage sends everything its run context holds back through every
// channel the protocol has: log lines, progress, journal entries, file and
// probe paths, exec argv, env and stdin, outputs, and its error.
type echoStage struct{}

func (echoStage) Schema() sdk.Schema                                   { return sdk.Schema{} }
func (echoStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (echoStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	rc := req.Context
	texts := append([]string{rc.Hostname, rc.Private, rc.CTName}, rc.Options.Scripts...)
	outputs := map[string]string{}
	for k, v := range rc.Config {
		outputs[k] = v
	}
	for i, s := range texts {
		req.UI.Log(sdk.LevelInfo, s)
		req.UI.Report(sdk.Progress{Message: s, Unit: "files"})
		if err := req.Host.Journal(ctx, "echo", sdk.PhaseBegin, map[string]string{s: s}); err != nil {
			return nil, err
		}
		if err := req.Host.WriteFile(ctx, "/"+s, []byte(s), 0o644, false); err != nil {
			return nil, err
		}
		if _, err := req.Host.Probe(ctx, "/"+s); err != nil {
			return nil, err
		}
		if _, err := req.Host.Exec(ctx, sdk.ExecRequest{Argv: []string{s}, Env: []string{"X=" + s}, Stdin: []byte(s)}); err != nil {
			return nil, err
		}
		secret, err := req.Host.Secret(ctx, "secret")
		if err != nil {
			return nil, err
		}
		outputs[fmt.Sprint("secret", i)] = secret
	}
	if rc.Options.Extra["fail"] != "" {
		return nil, errors.New(rc.Options.Extra["fail"])
	}
	if _, err := req.Host.ReadFile(ctx, "/missing "+rc.Hostname); err != nil {
		outputs["read error"] = err.Error()
	}
	return &sdk.Result{Outputs: outputs}, nil
}

// No byte sequence in any field fails the transport: each arrives as sent.
func TestAnyBytesCrossTheProtocol(t *testing.T) {
	for _, s := range odd {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			c := Serve(t, &sdk.Plugin{Name: "echo", Version: "1", Stages: map[string]sdk.Stage{sdk.KindConfigure: echoStage{}}})
			c.Host.SetSecret("secret", s)
			c.Host.ReadFileFunc = func(_ context.Context, p string) ([]byte, error) {
				return nil, fmt.Errorf("read %s: denied", p)
			}
			rc := sdk.RunContext{StageName: "echo", Hostname: s, Private: "/vz/private/" + s, CTName: s,
				Options: sdk.Options{Scripts: []string{s}, Extra: map[string]string{}},
				Config:  map[string]string{"DESCRIPTION": s, s: "key"}}
			out := c.Run(sdk.KindConfigure, nil, rc)
			if out.Failure != "" {
				t.Fatalf("Run failed: %q", out.Failure)
			}
			texts := []string{s, "/vz/private/" + s, s, s}
			var wantEvents []sdk.Event
			var wantJournal []sdk.JournalEntry
			var wantExecs []ExecCall
			wantOutputs := map[string]string{"DESCRIPTION": s, s: "key"}
			for i, x := range texts {
				wantEvents = append(wantEvents, sdk.Event{Stage: "echo", Log: &sdk.LogLine{Level: "info", Message: x}},
					sdk.Event{Stage: "echo", Progress: &sdk.Progress{Message: x, Unit: "files"}})
				wantJournal = append(wantJournal, sdk.JournalEntry{Stage: "echo", Step: "echo", Phase: sdk.PhaseBegin, Data: map[string]string{x: x}})
				wantExecs = append(wantExecs, ExecCall{Argv: []string{x}, Env: []string{"X=" + x}, Stdin: []byte(x)})
				wantOutputs[fmt.Sprint("secret", i)] = s
			}
			if d := cmp.Diff(wantEvents, out.Events); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if d := cmp.Diff(wantJournal, c.Host.JournalEntries()); d != "" {
				t.Errorf("journal (-want +got):\n%s", d)
			}
			if d := cmp.Diff(wantExecs, c.Host.ExecCalls()); d != "" {
				t.Errorf("exec calls (-want +got):\n%s", d)
			}
			for _, x := range texts {
				if got := string(c.Host.Files()[path.Clean("/"+x)].Data); got != x {
					t.Errorf("file %q holds %q, want %q", "/"+x, got, x)
				}
			}
			// A host error's message is for people: a byte that is no UTF-8
			// is shown \xNN, never lost or failing the call.
			wantOutputs["read error"] = "host read /missing " + s + ": " + sdk.EscapeInvalidUTF8("read /missing "+s+": denied")
			if d := cmp.Diff(wantOutputs, out.Result.Outputs); d != "" {
				t.Errorf("outputs (-want +got):\n%s", d)
			}

			rc.Options.Extra["fail"] = "failed on " + s
			if out := c.Run(sdk.KindConfigure, nil, rc); out.Failure != "failed on "+s {
				t.Errorf("Failure = %q, want %q", out.Failure, "failed on "+s)
			}
			rb := c.Rollback(sdk.KindConfigure, nil, rc, c.Host.JournalEntries())
			if rb.Failure != "" {
				t.Errorf("Rollback failed: %q", rb.Failure)
			}
		})
	}
}

func TestEscapeInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ünïcödé ✓ \x1b[2J", "ünïcödé ✓ \x1b[2J"},
		{"Jos\xe9", `Jos\xe9`},
		{"\xff\xfe", `\xff\xfe`},
		{"cut \xe2\x82", `cut \xe2\x82`},
	} {
		if got := sdk.EscapeInvalidUTF8(tc.in); got != tc.want {
			t.Errorf("EscapeInvalidUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !strings.Contains(tc.want, `\x`) && tc.in != tc.want {
			t.Errorf("valid text %q changed", tc.in)
		}
	}
}

// execStage runs `cat` with the stdin its config says: bytes, or a reader.
type execStage struct{ stdin []byte }

func (execStage) Schema() sdk.Schema                                   { return sdk.Schema{} }
func (execStage) Validate(context.Context, sdk.Config) sdk.Diagnostics { return nil }

func (s execStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var out strings.Builder
	r := sdk.ExecRequest{Argv: []string{"cat"}, Stdout: &out}
	if req.Context.Options.Extra["reader"] != "" {
		r.StdinReader = bytes.NewReader(s.stdin)
	} else {
		r.Stdin = s.stdin
	}
	code, err := req.Host.Exec(ctx, r)
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Outputs: map[string]string{"exit": fmt.Sprint(code), "stdout length": fmt.Sprint(out.Len())}}, nil
}

// An Exec's stdin of any size reaches the host whole, past gRPC's 4 MiB
// limit of a message, given as bytes or as a reader.
func TestExecStdinPastTheMessageLimit(t *testing.T) {
	stdin := bytes.Repeat([]byte("0123456789abcde\n"), 9<<20/16+3)
	for _, reader := range []string{"", "reader"} {
		c := Serve(t, &sdk.Plugin{Name: "exec", Version: "1", Stages: map[string]sdk.Stage{sdk.KindConfigure: execStage{stdin: stdin}}})
		c.Host.ExecFunc = func(_ context.Context, req sdk.ExecRequest) (int, error) {
			_, err := req.Stdout.Write(req.Stdin[:1000])
			return 0, err
		}
		out := c.Run(sdk.KindConfigure, nil, sdk.RunContext{Options: sdk.Options{Extra: map[string]string{"reader": reader}}})
		if out.Failure != "" {
			t.Fatalf("reader %q: Run failed: %s", reader, out.Failure)
		}
		calls := c.Host.ExecCalls()
		if len(calls) != 1 || !bytes.Equal(calls[0].Stdin, stdin) {
			t.Fatalf("reader %q: the host got %d calls, want 1 with the %d bytes of stdin", reader, len(calls), len(stdin))
		}
		if d := cmp.Diff(map[string]string{"exit": "0", "stdout length": "1000"}, out.Result.Outputs); d != "" {
			t.Errorf("reader %q: outputs (-want +got):\n%s", reader, d)
		}
	}
}
