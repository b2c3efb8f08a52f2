// Package oldarea tells the built-in plugins and the host services where the swap
// put the old private area, from the swap stage's outputs, never by
// guessing among the places it might be.
package oldarea
