package pipeline

import (
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// A for expression multiplies: [for x in l : [for y in l : l]] builds
// len(l)² copies of l inside one evaluation, before any value can be
// measured. So every for expression of a pipeline counts against a budget
// of iterations and bytes, renewed when an outermost for expression starts.
const (
	// MaxForIterations bounds the iterations of an outermost for
	// expression, those of the for expressions inside it included.
	MaxForIterations = 100_000
	// MaxForBytes bounds the bytes the bodies of an outermost for
	// expression produce, as MaxValueBytes counts them.
	MaxForBytes = 4 * MaxValueBytes
)

// forBudget is shared by the for expressions of one pipeline.
type forBudget struct {
	depth      atomic.Int64 // for bodies being evaluated, one inside another
	iterations atomic.Int64
	bytes      atomic.Int64
	exhausted  atomic.Bool // told once per outermost for expression
}

// budgetForExprs makes every for expression in body count against one
// budget: its collection starts the budget afresh when no for body is
// being evaluated, and each evaluation of its key and value is counted.
func budgetForExprs(body hcl.Body) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	b := &forBudget{}
	hclsyntax.VisitAll(sb, func(n hclsyntax.Node) hcl.Diagnostics {
		if fe, ok := n.(*hclsyntax.ForExpr); ok {
			if _, done := fe.ValExpr.(*budgetedBody); !done {
				// Each wraps the expression in parentheses, a node whose
				// child is the expression itself: walks over the syntax
				// (Variables, references) still see it.
				fe.CollExpr = &budgetedCollection{Expression: &hclsyntax.ParenthesesExpr{Expression: fe.CollExpr, SrcRange: fe.CollExpr.Range()}, b: b}
				fe.ValExpr = &budgetedBody{Expression: &hclsyntax.ParenthesesExpr{Expression: fe.ValExpr, SrcRange: fe.ValExpr.Range()}, b: b}
			}
		}
		return nil
	})
}

// budgetedCollection is a for expression's collection: evaluated outside
// every for body, it starts a new budget.
type budgetedCollection struct {
	hclsyntax.Expression
	b *forBudget
}

func (e *budgetedCollection) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if e.b.depth.Load() == 0 {
		e.b.iterations.Store(0)
		e.b.bytes.Store(0)
		e.b.exhausted.Store(false)
	}
	return e.Expression.Value(ctx)
}

// budgetedBody is a for expression's value: each evaluation is counted,
// and refused once the budget is spent.
type budgetedBody struct {
	hclsyntax.Expression
	b *forBudget
}

func (e *budgetedBody) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if e.b.iterations.Add(1) > MaxForIterations || e.b.bytes.Load() > MaxForBytes {
		return cty.DynamicVal, e.spent()
	}
	e.b.depth.Add(1)
	v, diags := e.Expression.Value(ctx)
	e.b.depth.Add(-1)
	if e.b.bytes.Add(int64(valueSize(v, MaxForBytes))) > MaxForBytes {
		return cty.DynamicVal, append(diags, e.spent()...)
	}
	return v, diags
}

// spent is the diagnostic of a spent budget, given once.
func (e *budgetedBody) spent() hcl.Diagnostics {
	if e.b.exhausted.Swap(true) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "For expression too large",
		Detail: fmt.Sprintf("A for expression (with those inside it) may iterate at most %d times and build at most %d bytes; this one goes past that here.",
			MaxForIterations, MaxForBytes),
		Subject: e.Range().Ptr(),
	}}
}
