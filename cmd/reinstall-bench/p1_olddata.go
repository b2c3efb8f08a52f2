package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// copyReference is what Virtuozzo 7 does after extracting the template into NEW: copy
// the whole old root into NEW/old, delete the old root, put NEW in its place, start.
const copyReference = `set -e
OLD=$1 NEW=$2 BIN=$3 ROOT=$4 CTID=$5
cp -ax "$OLD" "$NEW/old"
rm -rf "$OLD"
mv "$NEW" "$OLD"
"$BIN" --root "$ROOT" ct start "$CTID" >/dev/null
`

// oldArea is one P1 container and the customer data in its private area.
type oldArea struct {
	ctid  int
	name  string
	mb    int64
	files int
}

// benchOldData is P1: a reinstall of a stopped container (default mode, the old area
// kept at /old) with an empty, a mid-sized and a large old area; and, at the large and
// mid sizes, the time beyond provisioning against the copy-based reference.
func (b *bench) benchOldData() error {
	areas := []oldArea{
		{101, "empty", 0, 0},
		{102, fmtMB(b.opts.OldSmallMB), b.opts.OldSmallMB, b.opts.OldSmallFiles},
		{103, fmtMB(b.opts.OldLargeMB), b.opts.OldLargeMB, b.opts.OldLargeFiles},
	}
	for _, a := range areas {
		if err := b.createContainer(a.ctid, tinyTemplate); err != nil {
			return err
		}
		start := time.Now()
		if err := fillCustomerData(b.private(a.ctid), a.mb<<20, a.files); err != nil {
			return fmt.Errorf("customer data for %d: %w", a.ctid, err)
		}
		must(settle(false))
		logf("P1: old area %s (%d files) made in %s", a.name, a.files, fmtSec(time.Since(start).Seconds()))
	}
	total := map[int][]time.Duration{}
	beyond := map[int][]time.Duration{}
	for i := range b.opts.Reps + 1 { // the first round warms the caches and is dropped
		for _, a := range areas {
			must(settle(false))
			res, err := b.reinstall("P1 old area "+a.name, strconv.Itoa(a.ctid))
			if err != nil {
				return err
			}
			prov, err := stageTime(res.Stderr, "provision")
			if err != nil {
				return err
			}
			if err := b.stop(a.ctid); err != nil {
				return err
			}
			if err := b.restoreOld(a.ctid); err != nil {
				return err
			}
			if i > 0 {
				total[a.ctid] = append(total[a.ctid], res.Wall)
				beyond[a.ctid] = append(beyond[a.ctid], res.Wall-prov)
			}
		}
	}
	empty := statOf(total[101])
	for _, a := range areas[1:] {
		r := Row{ID: "P1", What: "reinstall, old area " + a.name + " vs empty", Ours: statOf(total[a.ctid]),
			Baseline: "reinstall, old area empty", Base: empty}
		if a.ctid == 103 {
			r.Target = 1.2
		}
		b.add(r)
	}
	for _, a := range areas[1:] {
		ref, err := b.copyReference(a)
		if err != nil {
			return err
		}
		r := Row{ID: "P1", What: "time beyond provisioning, old area " + a.name, Ours: statOf(beyond[a.ctid]),
			Baseline: "cp -ax old → new/old; rm -rf old; mv; ct start", Base: statOf(ref)}
		if a.ctid == 103 {
			r.Target = 1.0 / 50
			r.Note = "beyond provisioning = the whole reinstall minus its provision stage; the reference's time excludes the tar extraction before it, and has no fsync"
		}
		b.add(r)
	}
	return nil
}

// copyReference times the Virtuozzo 7 style copy on a's container, after extracting the
// template into a new area (not timed); the copy becomes the old area of the next round.
func (b *bench) copyReference(a oldArea) ([]time.Duration, error) {
	private := b.private(a.ctid)
	archive := b.host.Path("vz/template/cache/" + tinyTemplate + ".tar.zst")
	var out []time.Duration
	for range b.opts.RefReps {
		fresh := private + ".ref"
		if err := os.Mkdir(fresh, 0o700); err != nil {
			return nil, err
		}
		if _, err := gnuTar(archive, fresh); err != nil {
			return nil, err
		}
		must(settle(false))
		res, err := run("bash", "-c", copyReference, "copy-reference", private, fresh, b.bin, b.root, strconv.Itoa(a.ctid))
		if err != nil {
			return nil, err
		}
		out = append(out, res.Wall)
		if err := b.stop(a.ctid); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(filepath.Join(private, "old")); err != nil {
			return nil, fmt.Errorf("the copy reference left no %s/old: %w", private, err)
		}
		if err := b.restoreOld(a.ctid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fmtMB(mb int64) string {
	if mb >= 1024 && mb%1024 == 0 {
		return fmt.Sprintf("%d GB", mb/1024)
	}
	return fmt.Sprintf("%d MB", mb)
}
