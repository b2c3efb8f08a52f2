package pipeline

import (
	"encoding/json"
	"slices"
)

// A plugin schema's sensitive attributes (a license key, say) never leave
// the host's memory except through HostServices.GetSecret: the configuration
// a plugin's Validate, Run and Rollback receive, and the one the journal
// records, holds them as null. So they reach no file, log or environment,
// and a rollback during `reinstall recover` cannot read them.

// withoutSensitive returns a stage's decoded configuration (a JSON object)
// with its sensitive attributes set to null.
func withoutSensitive(config []byte, sensitive []string) []byte {
	if len(sensitive) == 0 || len(config) == 0 {
		return config
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(config, &attrs); err != nil {
		return []byte("{}") // never leak what cannot be parsed
	}
	for _, name := range sensitive {
		if _, ok := attrs[name]; ok {
			attrs[name] = json.RawMessage("null")
		}
	}
	out, err := json.Marshal(attrs)
	if err != nil {
		return []byte("{}")
	}
	return out
}

// withSensitiveUnknown adds the sensitive attributes to the attributes a
// plugin's Validate is told are not known (their values are hidden from it).
func withSensitiveUnknown(unknown, sensitive []string) []string {
	out := slices.Clone(unknown)
	for _, name := range sensitive {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
