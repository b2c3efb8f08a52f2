package pipeline

import (
	"encoding/json"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// recordedVariable is a variable's value as the journal keeps it, typed so
// that recovery reads back exactly what the run evaluated.
type RecordedVariable struct {
	Type  json.RawMessage `json:"type"`
	Value json.RawMessage `json:"value"`
}

// RecordedVariables encodes the values the run uses, for its journal
// header. Sensitive variables are left out: like sensitive attributes they
// reach no file (recovery sees them as not known).
func (p *Pipeline) RecordedVariables() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, v := range p.Variables {
		val, ok := p.Values[v.Name]
		if !ok || v.Sensitive || !val.IsWhollyKnown() {
			continue
		}
		ty, err := ctyjson.MarshalType(val.Type())
		if err != nil {
			continue
		}
		data, err := ctyjson.Marshal(val, val.Type())
		if err != nil {
			continue
		}
		rec, err := json.Marshal(RecordedVariable{Type: ty, Value: data})
		if err != nil {
			continue
		}
		out[v.Name] = rec
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
