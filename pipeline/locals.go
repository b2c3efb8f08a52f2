package pipeline

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// decodeLocals reads every `locals { name = expr }` block and orders the
// locals so that each comes after the locals it reads ("Interdependent
// Blocks" in hcl's guide); a cycle is an error on each local in it.
func (p *Pipeline) decodeLocals(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var all []*Local
	byName := map[string]*Local{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, attr := range sortedAttributes(attrs) {
			if prev := byName[attr.Name]; prev != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("A local value named %q is already defined at %s.", attr.Name, prev.Range),
					Subject:  attr.NameRange.Ptr(),
				})
				continue
			}
			l := &Local{Name: attr.Name, Expr: attr.Expr, Range: attr.Range}
			byName[l.Name] = l
			all = append(all, l)
		}
	}
	ordered, d := orderLocals(all, byName)
	p.Locals = ordered
	return append(diags, d...)
}

// orderLocals sorts locals topologically, keeping file order where the
// dependencies allow, and reports cycles.
func orderLocals(all []*Local, byName map[string]*Local) ([]*Local, hcl.Diagnostics) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var ordered []*Local
	var diags hcl.Diagnostics
	var path []*Local
	var visit func(l *Local)
	visit = func(l *Local) {
		switch state[l.Name] {
		case done:
			return
		case visiting:
			start := 0
			for i, x := range path {
				if x == l {
					start = i
				}
			}
			var names []string
			for _, x := range path[start:] {
				names = append(names, "local."+x.Name)
			}
			names = append(names, "local."+l.Name)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   fmt.Sprintf("Local values cannot depend on themselves: %s.", strings.Join(names, " → ")),
				Subject:  l.Expr.Range().Ptr(),
			})
			return
		}
		state[l.Name] = visiting
		path = append(path, l)
		for _, dep := range localDependencies(l.Expr) {
			if d := byName[dep]; d != nil {
				visit(d)
			}
		}
		path = path[:len(path)-1]
		if state[l.Name] == visiting {
			state[l.Name] = done
			ordered = append(ordered, l)
		}
	}
	for _, l := range all {
		if state[l.Name] == unvisited {
			visit(l)
		}
	}
	return ordered, diags
}

// localDependencies lists the locals an expression reads (local.<name>).
func localDependencies(expr hcl.Expression) []string {
	var names []string
	for _, t := range expr.Variables() {
		if t.RootName() == "local" && len(t) > 1 {
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				names = append(names, a.Name)
			}
		}
	}
	return names
}

// Local returns the local value with the given name, or nil.
func (p *Pipeline) Local(name string) *Local {
	for _, l := range p.Locals {
		if l.Name == name {
			return l
		}
	}
	return nil
}
