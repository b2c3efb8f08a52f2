package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/reinstall-dev/reinstall/internal/pluginhost"
)

// ctOverhead is the container P3 reinstalls.
const ctOverhead = 201

// contractPipeline is the default pipeline without the Virtuozzo 7 extras
// (credentials, reinstall-scripts): the six stages of the contract, as a
// site may declare it. P3 measures it too, to show what the extras cost.
// The bench runs from the repository's top directory (scripts/bench.sh).
const contractPipeline = "examples/pipelines/contract.hcl"

// benchOverhead is P3: the whole default pipeline on the tiny template against the sum
// of its bare parts (GNU tar extraction, ct stop, ct start) measured in the same
// repetitions, and one plugin launch with its handshake against a bare fork/exec;
// then, for information, the contract's six stages against the same bare parts.
func (b *bench) benchOverhead() error {
	if err := b.createContainer(ctOverhead, tinyTemplate); err != nil {
		return err
	}
	if err := b.start(ctOverhead); err != nil {
		return err
	}
	id := strconv.Itoa(ctOverhead)
	archive := b.host.Path("vz/template/cache/" + tinyTemplate + ".tar.zst")
	contract, err := filepath.Abs(contractPipeline)
	if err != nil {
		return err
	}
	if _, err := os.Stat(contract); err != nil {
		return fmt.Errorf("P3: the contract's pipeline: %w (run from the repository's top directory)", err)
	}
	var whole, six, tarT, syncT, stopT, startT []time.Duration
	for i := range b.opts.Reps + 1 { // the first round warms the caches and is dropped
		must(settle(false))
		res, err := b.reinstall("P3 tiny template", "--stop", id)
		if err != nil {
			return err
		}
		if err := b.dropOld(ctOverhead); err != nil {
			return err
		}
		must(settle(false))
		sixRes, err := b.reinstall("P3 tiny template, six stages", "--pipeline", contract, "--stop", id)
		if err != nil {
			return err
		}
		if err := b.dropOld(ctOverhead); err != nil {
			return err
		}
		must(settle(false))
		dest := filepath.Join(b.scratch, "bare-tar")
		if err := os.Mkdir(dest, 0o700); err != nil {
			return err
		}
		tr, err := gnuTar(archive, dest)
		if err != nil {
			return err
		}
		if err := os.RemoveAll(dest); err != nil {
			return err
		}
		must(settle(false))
		stop, err := b.ct("stop", id)
		if err != nil {
			return err
		}
		start, err := b.ct("start", id)
		if err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		whole, six = append(whole, res.Wall), append(six, sixRes.Wall)
		tarT, syncT = append(tarT, tr.tar), append(syncT, tr.sync)
		stopT, startT = append(stopT, stop.Wall), append(startT, start.Wall)
	}
	b.add(Row{ID: "P3", What: "reinstall --stop, tiny template (whole pipeline)", Ours: statOf(whole),
		Baseline: "tar -x, sync -f, ct stop, ct start", Base: statOf(sumStats(tarT, syncT, stopT, startT)), Target: 1.3,
		Note: "bare parts (medians): tar -x " + fmtSec(statOf(tarT).Median) + ", sync -f " + fmtSec(statOf(syncT).Median) +
			", ct stop " + fmtSec(statOf(stopT).Median) + ", ct start " + fmtSec(statOf(startT).Median) +
			"; the default pipeline starts 7 plugin processes (one per plugin, side by side) and fsyncs every journal record"})
	if err := b.stop(ctOverhead); err != nil {
		return err
	}
	if err := b.benchPluginLaunch(); err != nil {
		return err
	}
	b.add(Row{ID: "P3", What: "reinstall --stop, tiny template, the contract's six stages (no credentials, reinstall-scripts)", Ours: statOf(six),
		Baseline: "tar -x, sync -f, ct stop, ct start", Base: statOf(sumStats(tarT, syncT, stopT, startT)),
		Note: "a site pipeline without the Virtuozzo 7 extras (5 plugin processes), in the same repetitions as P3a"})
	return nil
}

// benchPluginLaunch times starting the provision plugin up to a completed handshake,
// as the pipeline does for every plugin, against `reinstall version`.
func (b *bench) benchPluginLaunch() error {
	l := &pluginhost.Launcher{SocketDir: b.host.Path("run/reinstall/plugins"), SelfExe: b.bin}
	if err := os.MkdirAll(l.SocketDir, 0o700); err != nil {
		return err
	}
	var launch, exec []time.Duration
	for i := range 2*b.opts.Reps + 1 {
		start := time.Now()
		p, err := l.Launch(context.Background(), pluginhost.Spec{Name: "provision"}, nil)
		if err != nil {
			return err
		}
		took := time.Since(start)
		p.Close()
		res, err := run(b.bin, "version")
		if err != nil {
			return err
		}
		if i > 0 {
			launch, exec = append(launch, took), append(exec, res.Wall)
		}
	}
	b.add(Row{ID: "P3", What: "one plugin launch + handshake", Ours: statOf(launch),
		Baseline: "fork/exec of `reinstall version`", Base: statOf(exec), Target: 5})
	return nil
}

// tarTimes are GNU tar's extraction and the syncfs after it, timed apart.
type tarTimes struct{ tar, sync time.Duration }

func (t tarTimes) total() time.Duration { return t.tar + t.sync }

// gnuTar extracts archive into dest with GNU tar as root keeps a template (numeric
// owners, permissions, xattrs), then makes it durable with one syncfs (`sync -f`), as
// provision does before it reports success.
func gnuTar(archive, dest string) (tarTimes, error) {
	flag := "--zstd"
	if filepath.Ext(archive) == ".gz" {
		flag = "-z"
	}
	x, err := run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xp", flag, "-f", archive, "-C", dest)
	if err != nil {
		return tarTimes{}, err
	}
	s, err := run("sync", "-f", dest)
	return tarTimes{x.Wall, s.Wall}, err
}
