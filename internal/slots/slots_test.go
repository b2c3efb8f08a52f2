package slots

import (
	"context"
	"testing"
)

// With every slot held, Acquire says it waits and takes the slot once it is
// released; a second slot is taken without waiting.
func TestAcquireWaitsForAFreeSlot(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(context.Background(), dir, 2, func() { t.Error("waited with a slot free") })
	if err != nil {
		t.Fatal(err)
	}
	second, err := Acquire(context.Background(), dir, 2, func() { t.Error("waited with a slot free") })
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	got := make(chan *Slot)
	go func() {
		s, err := Acquire(context.Background(), dir, 2, func() { close(waiting) })
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	<-waiting
	second.Release()
	third := <-got
	third.Release()
	first.Release()
}

// A cancelled wait returns the context's error.
func TestAcquireCancelled(t *testing.T) {
	dir := t.TempDir()
	held, err := Acquire(context.Background(), dir, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Acquire(ctx, dir, 1, cancel); err != context.Canceled {
		t.Errorf("err %v, want context.Canceled", err)
	}
}
