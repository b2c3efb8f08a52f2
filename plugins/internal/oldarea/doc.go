// Package oldarea tells the configure-kind built-in plugins where the swap
// put the old private area, from the swap stage's outputs, never by
// guessing among the places it might be.
package oldarea
