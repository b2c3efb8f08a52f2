package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
	"github.com/reinstall-dev/reinstall/internal/vz"
	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/journal"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// loadRecordedPipeline loads an interrupted run's pipeline for recovery
// from its journal header: the source text it recorded (format 2), and the
// variable values it recorded (the others are unknown). A format 1 journal
// recorded no source: its pipeline file (or the embedded default) is read
// again, as the binaries that wrote such journals did.
func loadRecordedPipeline(o Options, hdr *journal.Header) (*pipeline.Pipeline, error) {
	filename, src := hdr.Pipeline, hdr.PipelineSource
	if hdr.Version() < 2 {
		var err error
		if filename, src, err = pipelineSource(Options{Host: o.Host, PipelineFile: pipelineFileOf(hdr)}); err != nil {
			return nil, refused("pipeline: %v", err)
		}
	}
	p, diags := pipeline.Load(filename, src)
	if p == nil {
		return nil, &Error{Code: ExitRefused, Stage: StagePreflight, Err: errors.New(pipeline.FirstError(diags)), Diags: diags, Sources: map[string][]byte{filename: src}}
	}
	p.AssignVariables(pipeline.VarInputs{Lenient: true})
	for name, raw := range hdr.Vars {
		var rec pipeline.RecordedVariable
		if json.Unmarshal(raw, &rec) != nil || p.Variable(name) == nil {
			continue
		}
		ty, err := ctyjson.UnmarshalType(rec.Type)
		if err != nil {
			continue
		}
		if val, err := ctyjson.Unmarshal(rec.Value, ty); err == nil {
			p.Values[name] = val
		}
	}
	// The interrupted run's external plugins, from where it found them,
	// whatever the caller's environment says now.
	p.PluginDir, p.PluginDirRecorded = hdr.PluginDir, true
	if hdr.Version() >= 2 {
		p.RecordedPlugins = hdr.Plugins
		if p.RecordedPlugins == nil {
			p.RecordedPlugins = map[string]journal.RecordedPlugin{}
		}
	}
	return p, nil
}

// recordPlugins resolves every external plugin the pipeline's stages use
// and hashes its file, for the journal header.
func recordPlugins(h *vz.Host, p *pipeline.Pipeline) (map[string]journal.RecordedPlugin, error) {
	out := map[string]journal.RecordedPlugin{}
	for _, s := range p.Stages {
		bin, _ := pipeline.PluginBinary(s.Plugin)
		if _, done := out[bin]; done || slices.Contains(pipeline.BuiltinPlugins, bin) {
			continue
		}
		spec, err := pluginSpec(h, p, bin)
		if err != nil {
			return nil, err
		}
		sum, err := pluginhost.FileSHA256(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", bin, err)
		}
		out[bin] = journal.RecordedPlugin{Path: spec.Path, SHA256: sum}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// recordedPluginSpec is the launch spec of an external plugin a recovered
// run recorded: its file, pinned to the SHA-256 it had then.
func recordedPluginSpec(p *pipeline.Pipeline, name string) (pluginhost.Spec, error) {
	rec, ok := p.RecordedPlugins[name]
	if !ok {
		return pluginhost.Spec{}, fmt.Errorf("plugin %s: the interrupted run's journal records no file for it", name)
	}
	return pluginhost.Spec{Name: name, Path: rec.Path, SHA256: rec.SHA256}, nil
}
