package requests

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A request is recorded beside the lock; a second Begin of the same id sees
// the record once the first released it, and cannot take it meanwhile.
func TestBeginRecordReplay(t *testing.T) {
	dir := t.TempDir()
	r, err := Begin(dir, 101, "deploy-42")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.Recorded(); ok || err != nil {
		t.Fatalf("a new request is recorded (%v)", err)
	}
	var re *RunningError
	if _, err := Begin(dir, 101, "deploy-42"); !errors.As(err, &re) || re.PID != os.Getpid() {
		t.Fatalf("Begin of a held request: %v, want a RunningError naming pid %d", err, os.Getpid())
	}
	if other, err := Begin(dir, 102, "deploy-42"); err != nil {
		t.Fatalf("the same id on another container: %v", err)
	} else {
		other.Release()
	}
	if err := r.Record([]byte(`{"rc":0}`)); err != nil {
		t.Fatal(err)
	}
	r.Release()
	again, err := Begin(dir, 101, "deploy-42")
	if err != nil {
		t.Fatal(err)
	}
	defer again.Release()
	data, ok, err := again.Recorded()
	if !ok || err != nil || string(data) != `{"rc":0}` {
		t.Fatalf("Recorded = %q, %v, %v", data, ok, err)
	}
	recs, _ := filepath.Glob(filepath.Join(Dir(dir, 101), "*.json"))
	if len(recs) != 1 {
		t.Errorf("records %v, want one", recs)
	}
}

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"deploy-2026-12-04/web7", true},
		{"", false},
		{"a\nb", false},
		{string(make([]byte, MaxIDLength+1)), false},
	} {
		if err := ValidateID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

// A symlink planted as a record is not read through.
func TestRecordSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	r, err := Begin(dir, 101, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if err := os.Symlink("/etc/passwd", r.record); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Recorded(); err == nil {
		t.Error("a symlinked record was read")
	}
}
