package sdk

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A run context must reach the plugin exactly as the host built it: every
// option the operator typed decides what a stage does.
func TestRunContextRoundTrip(t *testing.T) {
	want := RunContext{
		RunID: "0a1b2c3d", StageName: "credentials", StageKind: "configure",
		CTID: 101, CTName: "web", HostRoot: "/tmp/root",
		Private: "/vz/private/101", PrivateTmp: "/vz/private/101.reinstall",
		PrivatePrevious: "/vz/private/101.previous", Trash: "/vz/private/101.trash-0a1b2c3d",
		VERoot: "/vz/root/101", OSTemplate: "debian-12", TemplateFile: "/vz/template/cache/debian-12.tar.zst",
		Hostname: "web.example.com",
		Options: Options{
			SkipBackup: true, Stop: true, ResetPwDB: true, SkipScripts: true,
			Scripts: []string{"a.sh", "b.sh"}, Extra: map[string]string{"k": "v"},
		},
		StageOutputs: map[string]map[string]string{"vps-reinstall": {"mode": "custom"}},
		Config:       map[string]string{"OSTEMPLATE": "debian-12"},
		LogLevel:     "debug",
	}
	got := runContextFromProto(runContextToProto(want, 7))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run context changed on the wire (-sent +received):\n%s", diff)
	}
}

func TestProgressRoundTrip(t *testing.T) {
	want := Progress{Message: "unpacking debian-12", Done: 4096, Total: 8192, Unit: "bytes", Files: 12}
	got, ok := eventFromProto("template", progressEvent(want))
	if !ok || got.Progress == nil {
		t.Fatalf("progress event not recognised: %+v", got)
	}
	if diff := cmp.Diff(want, *got.Progress); diff != "" {
		t.Errorf("progress changed on the wire (-sent +received):\n%s", diff)
	}
}

// A schema's declared outputs reach the host as the plugin wrote them: they
// are all a pipeline may read of the stage.
func TestSchemaRoundTrip(t *testing.T) {
	want := Schema{
		Attributes: []Attribute{{Name: "key", Type: "string", Required: true, Sensitive: true, Description: "the key"}},
		Outputs: []Output{
			{Name: "fingerprint", Type: "string", Description: "the key's fingerprint"},
			{Name: "count", Type: "number"},
		},
	}
	if diff := cmp.Diff(want, schemaFromProto(schemaToProto(want))); diff != "" {
		t.Errorf("schema changed on the wire (-sent +received):\n%s", diff)
	}
}
