package pipeline

import (
	"encoding/json"
	"errors"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// recordedVariable is a variable's value as the journal keeps it, typed so
// that recovery reads back exactly what the run evaluated.
type recordedVariable struct {
	Type  json.RawMessage `json:"type"`
	Value json.RawMessage `json:"value"`
}

// RecordedVariables encodes the values the run uses, for its journal
// header. Sensitive variables are left out: like sensitive attributes they
// reach no file (recovery sees them as not known).
func (p *Pipeline) RecordedVariables() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, v := range p.Variables {
		val, ok := p.values[v.Name]
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
		rec, err := json.Marshal(recordedVariable{Type: ty, Value: data})
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

// loadRecordedPipeline loads an interrupted run's pipeline for recovery
// with the variable values its journal recorded; the others are unknown.
func loadRecordedPipeline(o Options, recorded map[string]json.RawMessage) (*Pipeline, error) {
	filename, src, err := pipelineSource(o)
	if err != nil {
		return nil, refused("pipeline: %v", err)
	}
	p, diags := Load(filename, src)
	if p == nil {
		return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(firstError(diags)), Diags: diags, Sources: map[string][]byte{filename: src}}
	}
	p.AssignVariables(VarInputs{Lenient: true})
	for name, raw := range recorded {
		var rec recordedVariable
		if json.Unmarshal(raw, &rec) != nil || p.Variable(name) == nil {
			continue
		}
		ty, err := ctyjson.UnmarshalType(rec.Type)
		if err != nil {
			continue
		}
		if val, err := ctyjson.Unmarshal(rec.Value, ty); err == nil {
			p.values[name] = val
		}
	}
	return p, nil
}
