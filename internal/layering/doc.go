// Package layering holds the test that keeps the import arrows of
// docs/architecture (README "How it is built") true: data flows CLI →
// language and engine → pluginhost → plugins → host services → runtime,
// safefs, vz, and nothing lower imports anything higher.
package layering
