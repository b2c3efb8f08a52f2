// Package swap is the built-in swap stage (contract §2.3): it stops the
// container if asked, exchanges the temporary and private areas in one
// renameat2, and places the old area at /old or parks it.
package swap
