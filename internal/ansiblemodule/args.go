package ansiblemodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Args are the module's arguments, as a task gives them.
type Args struct {
	CTID          string            // ctid: a CTID (a number or a string)
	Name          string            // name: a container name, instead of ctid
	Root          string            // root: --root, default "/"
	SkipBackup    bool              // skipbackup
	Stop          bool              // stop
	OSTemplate    string            // ostemplate
	Pipeline      string            // pipeline: a pipeline file
	Vars          map[string]string // vars: the pipeline's variables
	Runtime       string            // runtime: auto, native, vzctl, prlctl
	RequestID     string            // request_id
	Timeout       int               // timeout: seconds; SIGTERM (a rollback) after it; 0 none
	MaxConcurrent *int              // max_concurrent: the host's limit of runs at once
	Executable    string            // executable: the reinstall binary
	CheckMode     bool              // _ansible_check_mode
}

// known are the arguments the module takes; Ansible's own (_ansible_*)
// are ignored but check mode.
var known = []string{"ctid", "name", "root", "skipbackup", "stop", "ostemplate", "pipeline", "vars", "runtime",
	"request_id", "timeout", "max_concurrent", "executable"}

// ParseArgs reads the args file's JSON.
func ParseArgs(data []byte) (Args, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Args{}, fmt.Errorf("module arguments: %w", err)
	}
	a := Args{Root: "/"}
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		if strings.HasPrefix(k, "_ansible_") {
			if k == "_ansible_check_mode" {
				a.CheckMode, _ = asBool(v)
			}
			continue
		}
		if !slices.Contains(known, k) || string(v) == "null" {
			if !slices.Contains(known, k) {
				errs = append(errs, fmt.Sprintf("unsupported parameter %q (supported: %s)", k, strings.Join(known, ", ")))
			}
			continue
		}
		var err error
		switch k {
		case "ctid":
			a.CTID, err = asString(v)
		case "name":
			a.Name, err = asString(v)
		case "root":
			a.Root, err = asString(v)
		case "skipbackup":
			a.SkipBackup, err = asBool(v)
		case "stop":
			a.Stop, err = asBool(v)
		case "ostemplate":
			a.OSTemplate, err = asString(v)
		case "pipeline":
			a.Pipeline, err = asString(v)
		case "runtime":
			a.Runtime, err = asString(v)
		case "request_id":
			a.RequestID, err = asString(v)
		case "executable":
			a.Executable, err = asString(v)
		case "timeout":
			a.Timeout, err = asInt(v)
		case "max_concurrent":
			var n int
			n, err = asInt(v)
			a.MaxConcurrent = &n
		case "vars":
			err = json.Unmarshal(v, &a.Vars)
			if err != nil {
				var m map[string]any
				if err = json.Unmarshal(v, &m); err == nil {
					a.Vars = map[string]string{}
					for name, val := range m {
						a.Vars[name] = fmt.Sprint(val)
					}
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", k, err))
		}
	}
	if (a.CTID == "") == (a.Name == "") {
		errs = append(errs, "give one of ctid and name")
	}
	if a.Timeout < 0 {
		errs = append(errs, "timeout: want seconds, 0 for none")
	}
	if len(errs) > 0 {
		return a, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return a, nil
}

// asString takes a string or a number (a CTID written bare in YAML).
func asString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("want a string, got %s", v)
}

// asBool takes what Ansible takes for a boolean: true/false, yes/no, on/off, 1/0.
func asBool(v json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	s, err := asString(v)
	if err != nil {
		return false, fmt.Errorf("want a boolean, got %s", v)
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1", "y", "t":
		return true, nil
	case "false", "no", "off", "0", "n", "f", "":
		return false, nil
	}
	return false, fmt.Errorf("want a boolean, got %q", s)
}

func asInt(v json.RawMessage) (int, error) {
	s, err := asString(v)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %s", v)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %q", s)
	}
	return n, nil
}

// target is the container as reinstall takes it.
func (a Args) target() string {
	if a.CTID != "" {
		return a.CTID
	}
	return a.Name
}

// reinstallArgs is the reinstall command line for these arguments: the
// run (--output=result), or in check mode its plan (--json).
func (a Args) reinstallArgs() []string {
	argv := []string{"--root", a.Root}
	if a.Runtime != "" {
		argv = append(argv, "--runtime", a.Runtime)
	}
	if a.CheckMode {
		argv = append(argv, "plan", "--json")
	} else {
		argv = append(argv, "--output=result")
		if a.RequestID != "" {
			argv = append(argv, "--request-id", a.RequestID)
		}
		if a.MaxConcurrent != nil {
			argv = append(argv, "--max-concurrent", strconv.Itoa(*a.MaxConcurrent))
		}
	}
	if a.SkipBackup {
		argv = append(argv, "--skipbackup")
	}
	if a.Stop {
		argv = append(argv, "--stop")
	}
	if a.OSTemplate != "" {
		argv = append(argv, "--ostemplate", a.OSTemplate)
	}
	if a.Pipeline != "" {
		argv = append(argv, "--pipeline", a.Pipeline)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Vars)) {
		argv = append(argv, "--var", k+"="+a.Vars[k])
	}
	return append(argv, "--", a.target())
}
