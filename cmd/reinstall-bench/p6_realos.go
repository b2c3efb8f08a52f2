package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reinstall-dev/reinstall/internal/templates"
	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// benchRealOS is P6: the real Debian 12 systemd template
// (scripts/debian-template.sh): its provisioning against GNU tar, and the downtime
// of `reinstall --stop` of a booted systemd container against the container's own
// clean stop and start (ct stop, which asks systemd to halt, then ct start). Each
// measurement starts with systemd up (is-system-running: running or degraded).
func (b *bench) benchRealOS() error {
	src := os.Getenv("REINSTALL_DEBIAN_TEMPLATE")
	if src == "" {
		src = testenv.DebianTemplateDefault
	}
	if _, err := os.Stat(src); err != nil {
		b.add(Row{ID: "P6", What: "real Debian 12 systemd template", Skipped: true,
			Note: fmt.Sprintf("no template at %s: run scripts/debian-template.sh (make bench does)", src)})
		return nil
	}
	archive := b.host.Path("vz/template/cache/" + testenv.DebianTemplateName + ".tar.zst")
	if err := linkOrCopy(src, archive); err != nil {
		return err
	}
	ours, tar, err := b.provisionVsTar(archive, b.scratch, templates.CacheOff, true)
	if err != nil {
		return err
	}
	b.add(Row{ID: "P6", What: "provision, Debian 12 systemd template .tar.zst, cold cache", Ours: statOf(ours),
		Baseline: "GNU tar -x + sync -f", Base: statOf(totals(tar)), Target: 1.0, Note: syncShare(tar)})

	const ctid = 601
	id := strconv.Itoa(ctid)
	if err := b.host.WriteConfig(ctid, "# benchmark container, systemd\nHOSTNAME=\"deb601.bench\"\n"); err != nil {
		return err
	}
	if _, err := b.ct("create", id, "--ostemplate", testenv.DebianTemplateName); err != nil {
		return err
	}
	b.started = append(b.started, ctid)
	if err := b.start(ctid); err != nil {
		return err
	}
	var reinstalled, plain, whole []time.Duration
	for range b.opts.Reps {
		if err := b.waitSystemd(ctid); err != nil {
			return err
		}
		must(settle(false))
		var res result
		d, err := b.downtime(ctid, func() (err error) {
			res, err = b.reinstall("P6 Debian template, --stop", "--stop", id)
			return err
		})
		if err != nil {
			return err
		}
		reinstalled, whole = append(reinstalled, d), append(whole, res.Wall)
		if err := b.dropOld(ctid); err != nil {
			return err
		}
		if err := b.waitSystemd(ctid); err != nil {
			return err
		}
		must(settle(false))
		d, err = b.plainRestart(ctid, id)
		if err != nil {
			return err
		}
		plain = append(plain, d)
	}
	b.add(Row{ID: "P6", What: "downtime, reinstall --stop, Debian 12 systemd container", Ours: statOf(reinstalled),
		Baseline: "its clean stop (systemd halt) + start", Base: statOf(plain), Target: 1.2,
		Note: fmt.Sprintf("from the old init's exit to the new init running; the whole reinstall took %s (median), the rest while systemd was up",
			fmtSec(statOf(whole).Median))})
	return b.stop(ctid)
}

// waitSystemd waits until systemd in the container says running or degraded.
func (b *bench) waitSystemd(ctid int) error {
	deadline := time.Now().Add(2 * time.Minute)
	var state string
	for time.Now().Before(deadline) {
		r, _ := b.ct("exec", strconv.Itoa(ctid), "--", "systemctl", "is-system-running")
		state = strings.TrimSpace(r.Stdout)
		if state == "running" || state == "degraded" {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("container %d: systemd is %q, not running, after 2 minutes", ctid, state)
}

// linkOrCopy puts src at dst: a hard link where it can, else a copy.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
