package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// minimalPipeline is a pipeline block that loads without plugins.
const minimalPipeline = `
pipeline "p" {
  stage "provision" "template" { plugin = "provision" }
  stage "swap" "swap" { plugin = "swap" }
  stage "start" "start" { plugin = "start" }
  stage "backup-retention" "retention" { plugin = "backup-retention" }
}
`

// thousandLocals make local.nums the numbers 0 to 999.
const thousandLocals = `  ten = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  nums = flatten([for a in local.ten : [for b in local.ten : [for c in local.ten : a * 100 + b * 10 + c]]])
`

func doublingLocals(n int) string {
	var b strings.Builder
	b.WriteString("locals {\n  a0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  a%d = \"${local.a%d}${local.a%d}\"\n", i, i-1, i-1)
	}
	b.WriteString("}\n")
	return b.String()
}

// Sources hcl would recurse into without bound, and values that grow
// without bound, are refused with a diagnostic at the place that goes past
// the limit: the host neither overflows its stack nor runs out of memory.
func TestPipelineLimits(t *testing.T) {
	deep := 100_000
	cases := []struct {
		name    string
		src     string
		summary string
		at      string // file:line:col of the diagnostic's start
	}{
		{"nested parentheses", "locals {\n  x = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "\n}\n" + minimalPipeline,
			"Nesting too deep", "f.hcl:2:70"},
		{"nested lists", "locals {\n  x = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n}\n" + minimalPipeline,
			"Nesting too deep", "f.hcl:2:70"},
		{"nested interpolations", "locals {\n  x = " + strings.Repeat(`"${`, deep) + "1" + strings.Repeat(`}"`, deep) + "\n}\n" + minimalPipeline,
			"Nesting too deep", "f.hcl:2:101"},
		{"chained negations", "locals {\n  x = " + strings.Repeat("!", deep) + "true\n}\n" + minimalPipeline,
			"Nesting too deep", "f.hcl:2:71"},
		{"too large", "# " + strings.Repeat("x", MaxSourceBytes) + "\n" + minimalPipeline,
			"Source too large", "f.hcl:1:1"},
		{"self-doubling locals", doublingLocals(60) + minimalPipeline,
			"Value too large", "f.hcl:19:9"},
		{"one template repeating a large local", doublingLocals(16) + "locals {\n  big = \"" + strings.Repeat("${local.a15}", 3) + "\"\n}\n" + minimalPipeline,
			"Value too large", "f.hcl:20:9"},
		{"nested for expressions", "locals {\n  l = [1, 2, 3, 4, 5, 6, 7, 8]\n  f = " + strings.Repeat("[for x in local.l : ", 30) + "x" + strings.Repeat("]", 30) + "\n}\n" + minimalPipeline,
			"For expression too large", ""},
		{"a for expression copying its collection", "locals {\n" + thousandLocals + "  q = [for x in local.nums : local.nums]\n}\n" + minimalPipeline,
			"For expression too large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, diags := Load("f.hcl", []byte(tc.src))
			if !diags.HasErrors() {
				_, diags = (&EvalScope{Pipeline: p, NoContainer: true}).ContextWithLocals()
			}
			if len(diags) == 0 {
				t.Fatal("no diagnostic")
			}
			d := diags[0]
			if d.Summary != tc.summary {
				t.Fatalf("diagnostic %q, want %q (%v)", d.Summary, tc.summary, diags)
			}
			if tc.at != "" {
				if got := fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column); got != tc.at {
					t.Errorf("at %s, want %s", got, tc.at)
				}
			}
		})
	}
}

// Within the limits nothing changes: a for expression's body still counts
// as a reference of what it reads (locals are ordered by it), and a for
// expression over a thousand elements evaluates.
func TestPipelineLimitsKeepMeaning(t *testing.T) {
	src := `locals {
  b = [for v in local.nums : "${local.a}-${v}"]
  a = "x"
` + thousandLocals + `  nested = (((((1)))))
}
` + minimalPipeline
	p, diags := Load("f.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var order []string
	for _, l := range p.Locals {
		order = append(order, l.Name)
	}
	if i, j := indexOf(order, "a"), indexOf(order, "b"); i > j {
		t.Errorf("locals in order %v: b reads local.a inside a for expression", order)
	}
	ctx, diags := (&EvalScope{Pipeline: p, NoContainer: true}).ContextWithLocals()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := ctx.Variables["local"].GetAttr("b")
	if n := b.LengthInt(); n != 1000 || b.Index(cty.NumberIntVal(999)).AsString() != "x-999" {
		t.Errorf("local.b has %d elements", n)
	}
	if d := cmp.Diff("1", ctx.Variables["local"].GetAttr("nested").AsBigFloat().String()); d != "" {
		t.Error(d)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
