// Package requests records finished requests per container, so that a
// request run again (the same --request-id) changes nothing and returns
// what the first run did: $LOCKDIR/<CTID>.requests/<sha256 of the id>.
package requests
