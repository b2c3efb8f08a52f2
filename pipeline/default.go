package pipeline

import _ "embed"

// DefaultFilename names the embedded default pipeline in diagnostics.
const DefaultFilename = "<embedded default.hcl>"

// DefaultSource is the embedded default pipeline; examples/pipelines/default.hcl
// is kept byte-identical to it by a test.
//
//go:embed default.hcl
var DefaultSource []byte
