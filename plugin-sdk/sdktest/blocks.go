package sdktest

import (
	"encoding/json"
	"fmt"
	"slices"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// fillDefaults sets each attribute with a default that is left out or null
// (and not unknown) to that default; it reports whether it set any.
func fillDefaults(fields map[string]json.RawMessage, attrs []sdk.Attribute, unknown []string) (bool, error) {
	filled := false
	for _, a := range attrs {
		if v, ok := fields[a.Name]; a.Default != nil && (!ok || string(v) == "null") && !slices.Contains(unknown, a.Name) {
			d, err := json.Marshal(a.Default)
			if err != nil {
				return false, fmt.Errorf("default of %s: %w", a.Name, err)
			}
			fields[a.Name], filled = d, true
		}
	}
	return filled, nil
}

// fillBlockDefaults does what the host does with blocks: a list block left
// out is an empty list, and each block written gets its attributes'
// defaults.
func fillBlockDefaults(fields map[string]json.RawMessage, blocks []sdk.Block, unknown []string) (bool, error) {
	filled := false
	for _, b := range blocks {
		v, ok := fields[b.Name]
		if slices.Contains(unknown, b.Name) {
			continue
		}
		if b.Nesting == sdk.NestingList && (!ok || string(v) == "null") {
			fields[b.Name], filled = json.RawMessage("[]"), true
			continue
		}
		if !ok || string(v) == "null" {
			continue
		}
		var objects []map[string]json.RawMessage
		if b.Nesting == sdk.NestingList {
			if err := json.Unmarshal(v, &objects); err != nil {
				return false, fmt.Errorf("block %s: a list of objects: %w", b.Name, err)
			}
		} else {
			objects = make([]map[string]json.RawMessage, 1)
			if err := json.Unmarshal(v, &objects[0]); err != nil {
				return false, fmt.Errorf("block %s: an object: %w", b.Name, err)
			}
		}
		changed := false
		for _, o := range objects {
			if o == nil {
				continue
			}
			f, err := fillDefaults(o, b.Attributes, nil)
			if err != nil {
				return false, fmt.Errorf("block %s: %w", b.Name, err)
			}
			changed = changed || f
		}
		if !changed {
			continue
		}
		var out any = objects
		if b.Nesting == sdk.NestingSingle {
			out = objects[0]
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return false, fmt.Errorf("block %s: %w", b.Name, err)
		}
		fields[b.Name], filled = raw, true
	}
	return filled, nil
}
