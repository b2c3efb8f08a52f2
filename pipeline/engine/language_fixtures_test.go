package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
	"github.com/reinstall-dev/reinstall/plugins"
)

// inProcessPlugin serves a built-in plugin's schemas and validation in the
// test process: the same Stage code the plugin process runs, minus gRPC.
type inProcessPlugin struct{ p *sdk.Plugin }

func (f inProcessPlugin) Info(context.Context) (pluginhost.Info, error) {
	var kinds []string
	for k := range f.p.Stages {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return pluginhost.Info{Name: f.p.Name, Version: f.p.Version, Kinds: kinds}, nil
}

func (f inProcessPlugin) Schema(_ context.Context, kind string) (sdk.Schema, error) {
	st, ok := f.p.Stages[kind]
	if !ok {
		return sdk.Schema{}, fmt.Errorf("plugin %s serves no %s stage", f.p.Name, kind)
	}
	return st.Schema(), nil
}

func (f inProcessPlugin) Validate(ctx context.Context, kind string, config []byte, unknown []string) (sdk.Diagnostics, error) {
	return f.p.Stages[kind].Validate(ctx, sdk.NewConfig(config, unknown)), nil
}

// launchInProcess resolves built-in plugins as a run does, in process.
func launchInProcess(_ context.Context, name string) (stagePlugin, error) {
	p, ok := plugins.Builtin(name)
	if !ok {
		return nil, fmt.Errorf("no plugin %q: it is not built in (built-ins: %s)%s", name, strings.Join(pipeline.BuiltinPlugins, ", "), pipeline.DidYouMean(name, pipeline.BuiltinPlugins))
	}
	return inProcessPlugin{p}, nil
}

// checkSource runs every check reinstall validate runs on a pipeline.
func checkSource(t *testing.T, filename string, src []byte, in pipeline.VarInputs) (*pipeline.Pipeline, hcl.Diagnostics) {
	t.Helper()
	p, diags := pipeline.Load(filename, src)
	if p == nil {
		return nil, diags
	}
	diags = append(diags, p.AssignVariables(in)...)
	if diags.HasErrors() {
		return p, diags
	}
	_, d, err := checkStages(context.Background(), p, launchInProcess, &pipeline.EvalScope{Pipeline: p, NoContainer: true, Pending: allStages(p)})
	if err != nil {
		t.Fatalf("check %s: %v", filename, err)
	}
	return p, append(diags, d...)
}

// markerRE finds `# ERROR: <line>:<column> <summary>` (or WARNING) in a
// fixture: the diagnostic's subject starts at that line and column.
var markerRE = regexp.MustCompile(`#\s*(ERROR|WARNING): (\d+):(\d+) (.+?)\s*$`)

func fixtureMarkers(t *testing.T, path string, src []byte) []string {
	t.Helper()
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		m := markerRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if line, _ := strconv.Atoi(m[2]); line != n {
			t.Fatalf("%s:%d: the marker says line %s; put it on the line where the error starts", path, n, m[2])
		}
		want = append(want, fmt.Sprintf("%s %s:%s %s", strings.ToLower(m[1]), m[2], m[3], m[4]))
	}
	return want
}

func diagnosticMarkers(t *testing.T, path string, diags hcl.Diagnostics) []string {
	t.Helper()
	var got []string
	for _, d := range diags {
		if d.Subject == nil {
			t.Errorf("%s: diagnostic without a subject: %s; %s", path, d.Summary, d.Detail)
			continue
		}
		if d.Subject.Filename != path {
			t.Errorf("%s: diagnostic points into %s: %s", path, d.Subject.Filename, d.Summary)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		got = append(got, fmt.Sprintf("%s %d:%d %s", sev, d.Subject.Start.Line, d.Subject.Start.Column, d.Summary))
	}
	return got
}

// TestInvalidPipelines checks every fixture in testdata/invalid: each error
// (and warning) is reported with its summary at the line and column its
// marker names, and nothing else is.
func TestInvalidPipelines(t *testing.T) {
	files, err := filepath.Glob("../testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d invalid fixtures; the language promises at least 20 kinds", len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := fixtureMarkers(t, path, src)
			if len(want) == 0 {
				t.Fatalf("%s has no # ERROR: or # WARNING: marker", path)
			}
			_, diags := checkSource(t, path, src, pipeline.VarInputs{Lenient: true})
			got := diagnosticMarkers(t, path, diags)
			slices.Sort(want)
			slices.Sort(got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("diagnostics (-markers +reported):\n%s\nreported:\n%s", d, describeDiags(diags))
			}
			for _, d := range diags {
				if d.Detail == "" {
					t.Errorf("%q has no detail: say what to do", d.Summary)
				}
			}
		})
	}
}

// TestValidPipelines loads, checks and formats every example and valid
// fixture without a diagnostic.
func TestValidPipelines(t *testing.T) {
	files, _ := filepath.Glob("../examples/pipelines/*.hcl")
	more, _ := filepath.Glob("../testdata/valid/*.hcl")
	files = append(files, more...)
	for _, path := range files {
		if filepath.Base(path) == "with-license.hcl" {
			continue // needs the vendor plugin: tested with it in cmd/reinstall
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := checkSource(t, path, src, pipeline.VarInputs{Lenient: true})
			if len(diags) > 0 {
				t.Errorf("%s:\n%s", path, describeDiags(diags))
			}
		})
	}
}

func describeDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "  %s: %s; %s\n", d.Subject, d.Summary, d.Detail)
	}
	return b.String()
}
