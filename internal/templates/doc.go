// Package templates fills a new private area from an OS template: an
// extraction of the archive, or a clone of the unpacked template cache
// $TEMPLATE/cache/<name>.d kept next to it (built on first use, rebuilt when
// the archive changes). The provision stage and `ct create` both unpack
// through it.
package templates
