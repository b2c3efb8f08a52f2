package sdk

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/reinstall-dev/reinstall/plugin-sdk/proto/stagev1"
)

// Conversions between the SDK's Go types and the stage protocol's messages,
// used by both ends: server.go and hostclient.go in the plugin, client.go
// and hostserver.go in the host.

func schemaToProto(s Schema) *stagev1.Schema {
	out := &stagev1.Schema{Attributes: attributesToProto(s.Attributes)}
	for _, b := range s.Blocks {
		out.Blocks = append(out.Blocks, &stagev1.Block{
			Name: b.Name, Nesting: stagev1.Block_Nesting(b.Nesting), Attributes: attributesToProto(b.Attributes), Description: b.Description,
		})
	}
	for _, o := range s.Outputs {
		out.Outputs = append(out.Outputs, &stagev1.Output{Name: o.Name, Type: o.Type, Description: o.Description})
	}
	return out
}

func schemaFromProto(s *stagev1.Schema) Schema {
	out := Schema{Attributes: attributesFromProto(s.GetAttributes())}
	for _, b := range s.GetBlocks() {
		out.Blocks = append(out.Blocks, Block{
			Name: b.GetName(), Nesting: Nesting(b.GetNesting()), Attributes: attributesFromProto(b.GetAttributes()), Description: b.GetDescription(),
		})
	}
	for _, o := range s.GetOutputs() {
		out.Outputs = append(out.Outputs, Output{Name: o.GetName(), Type: o.GetType(), Description: o.GetDescription()})
	}
	return out
}

func attributesToProto(attrs []Attribute) []*stagev1.Attribute {
	var out []*stagev1.Attribute
	for _, a := range attrs {
		out = append(out, &stagev1.Attribute{
			Name: a.Name, Type: a.Type, Required: a.Required, Sensitive: a.Sensitive, Description: a.Description,
			DefaultJson: a.defaultJSON(), Enum: a.Enum, Whole: a.Whole,
		})
	}
	return out
}

func attributesFromProto(attrs []*stagev1.Attribute) []Attribute {
	var out []Attribute
	for _, a := range attrs {
		out = append(out, Attribute{
			Name: a.GetName(), Type: a.GetType(), Required: a.GetRequired(), Sensitive: a.GetSensitive(), Description: a.GetDescription(),
			Default: rawDefault(a.GetDefaultJson()), Enum: a.GetEnum(), Whole: a.GetWhole(),
		})
	}
	return out
}

func diagnosticsToProto(ds Diagnostics) []*stagev1.Diagnostic {
	var out []*stagev1.Diagnostic
	for _, d := range ds {
		pd := &stagev1.Diagnostic{Severity: stagev1.Diagnostic_ERROR, Summary: wire(d.Summary), Detail: wire(d.Detail)}
		if d.Warning {
			pd.Severity = stagev1.Diagnostic_WARNING
		}
		if d.Attribute != "" {
			pd.AttributePath = []string{d.Attribute}
		}
		out = append(out, pd)
	}
	return out
}

func diagnosticsFromProto(ds []*stagev1.Diagnostic) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		out = append(out, Diagnostic{
			Warning:   d.GetSeverity() == stagev1.Diagnostic_WARNING,
			Summary:   string(d.GetSummary()),
			Detail:    string(d.GetDetail()),
			Attribute: strings.Join(d.GetAttributePath(), "."),
		})
	}
	return out
}

func runContextToProto(rc RunContext, hostServicesID uint32) *stagev1.RunContext {
	out := &stagev1.RunContext{
		RunId:           rc.RunID,
		StageName:       rc.StageName,
		StageKind:       rc.StageKind,
		Ctid:            int64(rc.CTID),
		CtName:          wire(rc.CTName),
		Veid:            wire(rc.VEID),
		HostRoot:        wire(rc.HostRoot),
		Private:         wire(rc.Private),
		PrivateTmp:      wire(rc.PrivateTmp),
		PrivatePrevious: wire(rc.PrivatePrevious),
		Trash:           wire(rc.Trash),
		VeRoot:          wire(rc.VERoot),
		Ostemplate:      wire(rc.OSTemplate),
		TemplateFile:    wire(rc.TemplateFile),
		Hostname:        wire(rc.Hostname),
		Options: &stagev1.Options{
			Skipbackup:  rc.Options.SkipBackup,
			Stop:        rc.Options.Stop,
			Extra:       entriesToProto(rc.Options.Extra),
			Resetpwdb:   rc.Options.ResetPwDB,
			Skipscripts: rc.Options.SkipScripts,
			Scripts:     wireList(rc.Options.Scripts),
			Nohealth:    rc.Options.NoHealth,
		},
		StageOutputs:   map[string]*stagev1.Outputs{},
		HostServicesId: hostServicesID,
		LogLevel:       rc.LogLevel,
		Config:         entriesToProto(rc.Config),
	}
	for name, values := range rc.StageOutputs {
		out.StageOutputs[name] = &stagev1.Outputs{Values: entriesToProto(values)}
	}
	if hostServicesID != 0 {
		out.HostCapabilities = hostCapabilities
	}
	return out
}

func runContextFromProto(rc *stagev1.RunContext) RunContext {
	out := RunContext{
		RunID:           rc.GetRunId(),
		StageName:       rc.GetStageName(),
		StageKind:       rc.GetStageKind(),
		CTID:            int(rc.GetCtid()),
		CTName:          string(rc.GetCtName()),
		VEID:            string(rc.GetVeid()),
		HostRoot:        string(rc.GetHostRoot()),
		Private:         string(rc.GetPrivate()),
		PrivateTmp:      string(rc.GetPrivateTmp()),
		PrivatePrevious: string(rc.GetPrivatePrevious()),
		Trash:           string(rc.GetTrash()),
		VERoot:          string(rc.GetVeRoot()),
		OSTemplate:      string(rc.GetOstemplate()),
		TemplateFile:    string(rc.GetTemplateFile()),
		Hostname:        string(rc.GetHostname()),
		Options: Options{
			SkipBackup:  rc.GetOptions().GetSkipbackup(),
			Stop:        rc.GetOptions().GetStop(),
			ResetPwDB:   rc.GetOptions().GetResetpwdb(),
			SkipScripts: rc.GetOptions().GetSkipscripts(),
			Scripts:     textList(rc.GetOptions().GetScripts()),
			NoHealth:    rc.GetOptions().GetNohealth(),
			Extra:       entriesFromProto(rc.GetOptions().GetExtra()),
		},
		StageOutputs: map[string]map[string]string{},
		Config:       entriesFromProto(rc.GetConfig()),
		LogLevel:     rc.GetLogLevel(),
	}
	for name, o := range rc.GetStageOutputs() {
		out.StageOutputs[name] = entriesFromProto(o.GetValues())
	}
	return out
}

func journalToProto(entries []JournalEntry) []*stagev1.JournalEntry {
	var out []*stagev1.JournalEntry
	for _, e := range entries {
		out = append(out, &stagev1.JournalEntry{Stage: e.Stage, Step: e.Step, Phase: string(e.Phase), Data: entriesToProto(e.Data)})
	}
	return out
}

func journalFromProto(entries []*stagev1.JournalEntry) []JournalEntry {
	var out []JournalEntry
	for _, e := range entries {
		out = append(out, JournalEntry{Stage: e.GetStage(), Step: e.GetStep(), Phase: Phase(e.GetPhase()), Data: entriesFromProto(e.GetData())})
	}
	return out
}

// resultEvent is the last event of a Run or Rollback stream.
func resultEvent(res *Result, err error) *stagev1.Event {
	r := &stagev1.Result{}
	if res != nil {
		r.Outputs, r.Reprovision = entriesToProto(res.Outputs), res.Reprovision
	}
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "stage failed without a message"
		}
		r.Error = wire(msg)
		var ae *AttributeError
		if errors.As(err, &ae) {
			r.Diagnostics = diagnosticsToProto(Diagnostics{{Summary: msg, Attribute: ae.Attribute}})
		}
	}
	return &stagev1.Event{Event: &stagev1.Event_Result{Result: r}}
}

func resultFromProto(r *stagev1.Result) *Result {
	return &Result{Outputs: entriesFromProto(r.GetOutputs()), Reprovision: r.GetReprovision()}
}

// rawDefault keeps a default as the JSON it came as (nil: none).
func rawDefault(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
