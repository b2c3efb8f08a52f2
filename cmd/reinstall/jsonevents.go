package main

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

// jsonEvents writes every event as one JSON object per line (--json), in
// the form docs/events.schema.json describes. A failed write (a closed
// pipe) drops the event and the run goes on.
type jsonEvents struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newJSONEvents(w io.Writer) *jsonEvents {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonEvents{enc: enc}
}

func (j *jsonEvents) event(ev engine.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(ev)
}
