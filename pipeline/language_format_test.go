package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/reinstall-dev/reinstall/plugins"
)

// comments lists a source's comments in order.
func comments(t *testing.T, src []byte) []string {
	t.Helper()
	tokens, diags := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var out []string
	for _, tok := range tokens {
		if tok.Type == hclsyntax.TokenComment {
			out = append(out, strings.TrimSpace(string(tok.Bytes)))
		}
	}
	return out
}

// TestFormatIsIdempotentAndKeepsComments formats every example and fixture
// twice: the second pass changes nothing, every comment survives, and the
// examples are already formatted. Fixtures with syntax errors are refused.
func TestFormatIsIdempotentAndKeepsComments(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../examples/pipelines/*.hcl", "testdata/*/*.hcl", "default.hcl"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			once, diags := Format(path, src)
			if _, syntax := hclsyntax.ParseConfig(src, path, hcl.InitialPos); syntax.HasErrors() {
				if !diags.HasErrors() || once != nil {
					t.Errorf("a file with syntax errors was formatted")
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			twice, diags := Format(path, once)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := cmp.Diff(string(once), string(twice)); d != "" {
				t.Errorf("formatting twice changes the file (-once +twice):\n%s", d)
			}
			if d := cmp.Diff(comments(t, src), comments(t, once)); d != "" {
				t.Errorf("comments changed (-before +after):\n%s", d)
			}
			if strings.Contains(path, "examples") || path == "default.hcl" {
				if d := cmp.Diff(string(src), string(once)); d != "" {
					t.Errorf("the example is not formatted (-file +formatted):\n%s", d)
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{
			"alignment and indentation",
			"pipeline \"x\" {\nstage \"configure\" \"c\" {\nscript = \"/a\" # the script\nwhen = true\n}\n}\n",
			"pipeline \"x\" {\n  stage \"configure\" \"c\" {\n    script = \"/a\" # the script\n    when   = true\n  }\n}\n",
		},
		{
			"interpolation-only strings become expressions",
			"locals {\n  a = \"${var.dir}\"\n  b = \"${var.dir}/x\"\n  c = \"${~var.dir~}\"\n}\n",
			"locals {\n  a = var.dir\n  b = \"${var.dir}/x\"\n  c = \"${~var.dir~}\"\n}\n",
		},
		{
			"quoted variable types",
			"variable \"a\" {\n  type = \"string\"\n}\nvariable \"b\" {\n  type = list(string)\n}\n",
			"variable \"a\" {\n  type = string\n}\nvariable \"b\" {\n  type = list(string)\n}\n",
		},
		{
			"one newline at the end",
			"pipeline \"x\" {}\n\n\n",
			"pipeline \"x\" {}\n",
		},
		{
			"comments everywhere stay",
			"# head\npipeline \"x\" { # after brace\n  /* block */ stage \"swap\" \"s\" {} // trailing\n  # last\n}\n",
			// hclwrite aligns the trailing comments of consecutive lines.
			"# head\npipeline \"x\" {                    # after brace\n  /* block */ stage \"swap\" \"s\" {} // trailing\n  # last\n}\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := Format("x.hcl", []byte(tc.in))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if d := cmp.Diff(tc.want, string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestFormatRefusesSyntaxErrors(t *testing.T) {
	out, diags := Format("x.hcl", []byte("pipeline \"x\" {\n  stage \"swap\" \"s\" {\n"))
	if !diags.HasErrors() || out != nil {
		t.Fatalf("got %q, %v; want a refusal", out, diags)
	}
	if d := diags[0]; d.Subject == nil || d.Subject.Filename != "x.hcl" {
		t.Errorf("diagnostic without its place: %v", d)
	}
}

// TestBuiltinPluginsListed keeps the names the language suggests in step
// with the plugins compiled in.
func TestBuiltinPluginsListed(t *testing.T) {
	if d := cmp.Diff(plugins.Names(), BuiltinPlugins); d != "" {
		t.Errorf("BuiltinPlugins differs from plugins.Names() (-plugins +list):\n%s", d)
	}
	for kind, name := range BuiltinPlugin {
		if !slices.Contains(BuiltinPlugins, name) {
			t.Errorf("the default plugin of %s, %s, is not built in", kind, name)
		}
	}
}
