package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// varFlags are --var name=value and --var-file FILE, shared by the commands
// that load a pipeline.
type varFlags struct {
	vars  []string
	files []string
}

func (v *varFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&v.vars, "var", nil, "set the pipeline variable `NAME=VALUE` (repeatable; the last one wins)")
	f.StringArrayVar(&v.files, "var-file", nil, "read pipeline variables from the HCL `FILE` of name = value lines (repeatable)")
}

// values parses the --var flags.
func (v *varFlags) values() (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range v.vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, &exitError{code: engine.ExitRefused, err: fmt.Errorf("--var %q: want NAME=VALUE", kv)}
		}
		out[name] = value
	}
	return out, nil
}

func newValidateCommand(g *globals) *cobra.Command {
	var vf varFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a pipeline file against its plugins, without a container",
		Long: `validate loads a pipeline (FILE, else /etc/vz/reinstall.hcl under --root,
else the embedded default), starts its plugins for their schemas and checks
every stage as a run would, with ct.* and opts.* not known. It exits 0 when
the pipeline is valid and 1 with every problem, shown in its source, when not.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars, err := vf.values()
			if err != nil {
				return err
			}
			h, err := g.host()
			if err != nil {
				return err
			}
			o := engine.Options{Host: h, Vars: vars, VarFiles: vf.files, Logger: g.logger(), SelfExe: "/proc/self/exe", Secrets: g.secrets}
			if len(args) == 1 {
				o.PipelineFile = args[0]
			}
			v, err := engine.Validate(cmd.Context(), o)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeValidationJSON(g.stdout, v); err != nil {
					return err
				}
			} else {
				printDiagnostics(g.stderr, &engine.Error{Diags: v.Diags, Sources: v.Sources})
			}
			errs, warnings := countDiags(v.Diags)
			if !v.Valid() {
				return &exitError{code: 1, err: fmt.Errorf("%s: %s", v.Filename, plural(errs, "error"))}
			}
			if !asJSON {
				p := v.Pipeline
				fmt.Fprintf(g.stdout, "%s: pipeline %q is valid: %s, plugins %s", v.Filename, p.Name, plural(len(p.Stages), "stage"), strings.Join(p.Plugins(), ", "))
				if warnings > 0 {
					fmt.Fprintf(g.stdout, " (%s)", plural(warnings, "warning"))
				}
				fmt.Fprintln(g.stdout)
			}
			return nil
		},
	}
	vf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result and every diagnostic as JSON on stdout")
	return cmd
}

// jsonDiagnostic is a diagnostic as `validate --json` prints it.
type jsonDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

func toJSONRange(r *hcl.Range) *jsonRange {
	if r == nil {
		return nil
	}
	return &jsonRange{
		Filename: r.Filename,
		Start:    jsonPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:      jsonPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
	}
}

func writeValidationJSON(w io.Writer, v *engine.Validation) error {
	errs, warnings := countDiags(v.Diags)
	out := struct {
		Valid        bool             `json:"valid"`
		File         string           `json:"file"`
		ErrorCount   int              `json:"error_count"`
		WarningCount int              `json:"warning_count"`
		Diagnostics  []jsonDiagnostic `json:"diagnostics"`
	}{Valid: v.Valid(), File: v.Filename, ErrorCount: errs, WarningCount: warnings, Diagnostics: []jsonDiagnostic{}}
	for _, d := range v.Diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Range: toJSONRange(d.Subject)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func countDiags(diags hcl.Diagnostics) (errs, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warnings++
		}
	}
	return errs, warnings
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
