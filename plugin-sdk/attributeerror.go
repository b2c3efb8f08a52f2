package sdk

// AttributeError is a Run or Rollback failure that lies in one attribute
// of the stage's configuration: the host shows the operator where it is
// set in the pipeline file. Attribute is a path as in Diagnostic
// ("paths[1]").
type AttributeError struct {
	Attribute string
	Err       error
}

// ErrorAt wraps err as a failure of the attribute at path.
func ErrorAt(path string, err error) error {
	if err == nil {
		return nil
	}
	return &AttributeError{Attribute: path, Err: err}
}

func (e *AttributeError) Error() string { return e.Attribute + ": " + e.Err.Error() }
func (e *AttributeError) Unwrap() error { return e.Err }
