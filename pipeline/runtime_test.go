package pipeline

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestRuntimeSetting(t *testing.T) {
	const src = `pipeline "p" {
  %s
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
`
	tests := []struct {
		attr     string
		want     string
		wantDiag string // "summary @ line:column", "" for none
	}{
		{attr: "", want: ""},
		{attr: `runtime = "auto"`, want: "auto"},
		{attr: `runtime = "native"`, want: "native"},
		{attr: `runtime = "vzctl"`, want: "vzctl"},
		{attr: `runtime = "prlctl"`, want: "prlctl"},
		{attr: `runtime = "lxc"`, wantDiag: "Invalid runtime @ 2:13"},
		{attr: `runtime = 5`, wantDiag: "Invalid runtime @ 2:13"},
		{attr: `runtime = var.rt`, wantDiag: "Invalid runtime @ 2:13"},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			p, diags := Load("p.hcl", []byte(strings.Replace(src, "%s", tt.attr, 1)))
			var got []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil {
					got = append(got, d.Summary+" @ "+strconv.Itoa(d.Subject.Start.Line)+":"+strconv.Itoa(d.Subject.Start.Column))
				}
			}
			if tt.wantDiag != "" {
				if d := cmp.Diff([]string{tt.wantDiag}, got); d != "" {
					t.Errorf("diagnostics (-want +got):\n%s", d)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("Load: %v", diags)
			}
			if p.Runtime != tt.want {
				t.Errorf("Runtime = %q, want %q", p.Runtime, tt.want)
			}
		})
	}
}
