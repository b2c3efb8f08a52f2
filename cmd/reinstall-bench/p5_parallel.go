package main

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// firstParallelCT is the first of the containers P5 reinstalls at once.
const firstParallelCT = 401

// benchParallel is P5: reinstalls of N different stopped containers started at once,
// all of which must succeed, against the same N one after the other; then the
// same N in one command, `reinstall --parallel N CTID...`, against the same
// row.
func (b *bench) benchParallel() error {
	n := b.opts.Parallel
	ids := make([]int, n)
	for i := range ids {
		ids[i] = firstParallelCT + i
		if err := b.createContainer(ids[i], tinyTemplate); err != nil {
			return err
		}
	}
	var together, oneCommand, inRow []time.Duration
	failures, commandFailures := 0, 0
	parallelArgs := []string{"--parallel", strconv.Itoa(n)}
	for _, id := range ids {
		parallelArgs = append(parallelArgs, strconv.Itoa(id))
	}
	for range b.opts.ParallelReps {
		must(settle(false))
		start := time.Now()
		for _, id := range ids {
			if _, err := b.reinstall("P5 one of a row", strconv.Itoa(id)); err != nil {
				return err
			}
		}
		inRow = append(inRow, time.Since(start))
		if err := b.resetParallel(ids); err != nil {
			return err
		}

		must(settle(false))
		errs := make([]error, n)
		var wg sync.WaitGroup
		start = time.Now()
		for i, id := range ids {
			wg.Go(func() { _, errs[i] = b.reinstall("P5 one of "+strconv.Itoa(n)+" at once", strconv.Itoa(id)) })
		}
		wg.Wait()
		together = append(together, time.Since(start))
		for i, err := range errs {
			if err != nil {
				failures++
				logf("P5: container %d failed: %v", ids[i], err)
			}
		}
		if err := b.resetParallel(ids); err != nil {
			return err
		}

		must(settle(false))
		start = time.Now()
		if _, err := b.reinstall("P5 --parallel "+strconv.Itoa(n), parallelArgs...); err != nil {
			commandFailures++
			logf("P5: reinstall --parallel %d failed: %v", n, err)
		}
		oneCommand = append(oneCommand, time.Since(start))
		if err := b.resetParallel(ids); err != nil {
			return err
		}
	}
	r := Row{ID: "P5", What: fmt.Sprintf("%d reinstalls of different containers at once", n), Ours: statOf(together),
		Baseline: fmt.Sprintf("the same %d in a row", n), Base: statOf(inRow), Target: 0.7,
		Note: fmt.Sprintf("%d of %d concurrent reinstalls failed", failures, n*len(together))}
	b.add(r)
	if failures > 0 {
		met := false
		b.rows[len(b.rows)-1].Met = &met
	}
	r = Row{ID: "P5", What: fmt.Sprintf("the same %d in one command, --parallel %d", n, n), Ours: statOf(oneCommand),
		Baseline: fmt.Sprintf("the same %d in a row", n), Base: statOf(inRow), Target: 0.7,
		Note: fmt.Sprintf("%d of %d commands over %d containers failed", commandFailures, len(oneCommand), n)}
	b.add(r)
	if commandFailures > 0 {
		met := false
		b.rows[len(b.rows)-1].Met = &met
	}
	return nil
}

// resetParallel stops the containers and deletes the old areas their reinstall kept.
func (b *bench) resetParallel(ids []int) error {
	for _, id := range ids {
		if err := b.stop(id); err != nil {
			return err
		}
		if err := b.dropOld(id); err != nil {
			return err
		}
	}
	return nil
}
