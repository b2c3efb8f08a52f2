// Package provision is the built-in provision stage: it unpacks the OS
// template into the temporary private area "as if created by pctl create"
// (contract §2.1), from the archive or a clone of its unpacked cache, and
// discards that area on rollback.
package provision
