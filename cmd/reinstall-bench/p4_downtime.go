package main

import (
	"fmt"
	"strconv"
	"time"
)

// benchDowntime is P4: how long a running container is down when reinstalled with
// --stop (its init's exit to the new init running), for the tiny and the large
// template, each against a plain ct stop + ct start of the same container.
func (b *bench) benchDowntime() error {
	cases := []struct {
		ctid int
		tmpl string
		name string
	}{{301, tinyTemplate, "tiny"}, {302, largeTemplate, "large"}}
	medians := map[string]Stat{}
	for _, c := range cases {
		if err := b.createContainer(c.ctid, c.tmpl); err != nil {
			return err
		}
		if err := b.start(c.ctid); err != nil {
			return err
		}
		id := strconv.Itoa(c.ctid)
		var ours, plain, whole []time.Duration
		for range b.opts.Reps {
			must(settle(false))
			var res result
			d, err := b.downtime(c.ctid, func() (err error) {
				res, err = b.reinstall("P4 "+c.name+" template, --stop", "--stop", id)
				return err
			})
			if err != nil {
				return err
			}
			ours, whole = append(ours, d), append(whole, res.Wall)
			if err := b.dropOld(c.ctid); err != nil {
				return err
			}
			must(settle(false))
			d, err = b.plainRestart(c.ctid, id)
			if err != nil {
				return err
			}
			plain = append(plain, d)
		}
		medians[c.name] = statOf(ours)
		b.add(Row{ID: "P4", What: fmt.Sprintf("downtime, reinstall --stop, %s template", c.name), Ours: statOf(ours),
			Baseline: "ct stop + ct start", Base: statOf(plain), Target: 1.2,
			Note: fmt.Sprintf("%s template: the whole reinstall took %s (median); the rest ran while the container was up",
				c.name, fmtSec(statOf(whole).Median))})
		if err := b.stop(c.ctid); err != nil {
			return err
		}
	}
	b.add(Row{ID: "P4", What: "downtime, large template vs tiny template", Ours: medians["large"],
		Baseline: "downtime, tiny template", Base: medians["tiny"], Target: 1.2})
	return nil
}
