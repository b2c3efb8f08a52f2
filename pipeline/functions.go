package pipeline

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions is the curated set of go-cty stdlib functions pipelines may call.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"lower":     stdlib.LowerFunc,
		"upper":     stdlib.UpperFunc,
		"trimspace": stdlib.TrimSpaceFunc,
		"format":    stdlib.FormatFunc,
		"join":      stdlib.JoinFunc,
		"split":     stdlib.SplitFunc,
		"contains":  stdlib.ContainsFunc,
		"length":    stdlib.LengthFunc,
		"coalesce":  stdlib.CoalesceFunc,
		"concat":    stdlib.ConcatFunc,
		"regex":     stdlib.RegexFunc,
		"replace":   stdlib.ReplaceFunc,
		"substr":    stdlib.SubstrFunc,
		"tostring":  stdlib.MakeToFunc(cty.String),
		"tonumber":  stdlib.MakeToFunc(cty.Number),
		"tobool":    stdlib.MakeToFunc(cty.Bool),
		"min":       stdlib.MinFunc,
		"max":       stdlib.MaxFunc,
	}
}
