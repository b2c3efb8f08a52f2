// Package pipeline loads reinstall pipelines from HCL (the embedded default
// or a site's file), checks them before anything changes, and runs them:
// stage by stage through plugins, with a journal, rollback and events.
package pipeline
