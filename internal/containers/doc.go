// Package containers makes containers on the host: Create writes a
// container's config, fills its private area from the OS template through
// internal/templates (as the provision stage does) and links its name. The
// CLI's `ct create` only parses its flags, calls Create and prints.
package containers
