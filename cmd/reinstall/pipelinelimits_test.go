package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/reinstall-dev/reinstall/pipeline"
)

// A pipeline file nested too deep, or whose locals grow without bound, is
// refused with exit 2 and a diagnostic naming file:line:col, before
// anything changes; no lock is left behind, and the container is reinstalled
// normally right after.
func TestPipelineBeyondLimitsRefused(t *testing.T) {
	t.Parallel()
	deep := 100_000
	var doubling strings.Builder
	doubling.WriteString("locals {\n  a0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&doubling, "  a%d = \"${local.a%d}${local.a%d}\"\n", i, i-1, i-1)
	}
	doubling.WriteString("}\n")
	cases := []struct {
		name, prefix, at string
	}{
		{"100,000 nested parentheses", "locals {\n  x = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "\n}\n", ":2:70: Nesting too deep"},
		{"self-doubling locals", doubling.String(), ":19:9: Value too large"},
	}
	h := newTestHost(t)
	h.createCT()
	before := h.tree("")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := h.Path("pipeline.hcl")
			if err := os.WriteFile(file, append([]byte(tc.prefix), pipeline.DefaultSource...), 0o644); err != nil {
				t.Fatal(err)
			}
			r := h.runBounded(t, "--pipeline", file, "101")
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			if want := file + tc.at; !strings.Contains(r.lastLine(), want) {
				t.Errorf("last line %q does not say %q", r.lastLine(), want)
			}
			assertTree(t, "the private area", before, h.tree(""))
			h.assertClean()
		})
	}
	h.mustCLI("101")
}
