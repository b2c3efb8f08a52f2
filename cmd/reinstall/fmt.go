package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newFmtCommand(g *globals) *cobra.Command {
	var check, diff bool
	cmd := &cobra.Command{
		Use:   "fmt [--check] [--diff] [FILE...]",
		Short: "Rewrite pipeline files in the canonical layout",
		Long: `fmt rewrites each FILE (default: /etc/vz/reinstall.hcl under --root; "-" is
stdin to stdout) in the canonical layout and prints the names of the files it
changed. Comments and the order of everything are kept; a file with syntax
errors is refused and left as it is (exit 2). --check changes nothing and
exits 1 if any file is not formatted; --diff prints what changes.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				h, err := g.host()
				if err != nil {
					return err
				}
				site := h.Path(engine.SitePipeline)
				if _, err := os.Stat(site); err != nil {
					return &exitError{code: engine.ExitRefused, err: fmt.Errorf("no FILE given and no site pipeline %s", site)}
				}
				args = []string{site}
			}
			code := 0
			for _, file := range args {
				c := formatFile(g, cmd.InOrStdin(), file, check, diff)
				code = max(code, c)
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "change nothing; exit 1 if a file is not formatted")
	cmd.Flags().BoolVar(&diff, "diff", false, "print a unified diff of the changes")
	return cmd
}

// formatFile formats one file and returns its exit status: 0 formatted (or
// rewritten), 1 not formatted under --check, 2 unreadable or invalid.
func formatFile(g *globals, stdin io.Reader, file string, check, diff bool) int {
	name := file
	var src []byte
	var err error
	var mode os.FileMode = 0o644
	if file == "-" {
		name = "<stdin>"
		src, err = io.ReadAll(stdin)
	} else {
		var st os.FileInfo
		if st, err = os.Stat(file); err == nil {
			mode = st.Mode().Perm()
			src, err = os.ReadFile(file)
		}
	}
	if err != nil {
		fmt.Fprintf(g.stderr, "reinstall: fmt: %v\n", err)
		return 2
	}
	out, diags := pipeline.Format(name, src)
	if diags.HasErrors() {
		printDiagnostics(g.stderr, &engine.Error{Diags: diags, Sources: map[string][]byte{name: src}})
		fmt.Fprintf(g.stderr, "reinstall: fmt: %s has syntax errors; it is left as it is\n", name)
		return 2
	}
	changed := !bytes.Equal(src, out)
	if diff && changed {
		writeUnifiedDiff(g.stdout, name, src, out)
	}
	switch {
	case file == "-" && !check:
		g.stdout.Write(out)
	case !changed:
	case check:
		if !diff {
			fmt.Fprintln(g.stdout, name)
		}
		return 1
	default:
		target, err := filepath.EvalSymlinks(file) // rewrite a symlinked file, not the link
		if err != nil {
			fmt.Fprintf(g.stderr, "reinstall: fmt: %v\n", err)
			return 2
		}
		if err := vz.WriteFileAtomic(target, out, mode); err != nil {
			fmt.Fprintf(g.stderr, "reinstall: fmt: %v\n", err)
			return 2
		}
		if !diff {
			fmt.Fprintln(g.stdout, name)
		}
	}
	return 0
}

// writeUnifiedDiff prints the line changes from a to b with three lines of
// context (pipeline files are small: a plain LCS table is enough).
func writeUnifiedDiff(w io.Writer, name string, a, b []byte) {
	x, y := splitLines(a), splitLines(b)
	ops := diffLines(x, y)
	fmt.Fprintf(w, "--- %s\n+++ %s (formatted)\n", name, name)
	const context = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*context || run == len(ops) {
				end = min(len(ops), end+context)
				break
			}
			end = run
		}
		aStart, bStart, aLen, bLen := ops[start].ai+1, ops[start].bi+1, 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				aLen++
			}
			if op.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
		for _, op := range ops[start:end] {
			fmt.Fprintf(w, "%c%s\n", op.kind, op.line)
		}
		i = end
	}
}

type diffOp struct {
	kind   byte // ' ', '-', '+'
	line   string
	ai, bi int // line index in a and b where the op applies
}

func diffLines(x, y []string) []diffOp {
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i], i, j})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, diffOp{'+', y[j], i, j})
			j++
		default:
			ops = append(ops, diffOp{'-', x[i], i, j})
			i++
		}
	}
	return ops
}

func splitLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
