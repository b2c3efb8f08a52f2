package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/templates"
	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// largeTemplate is the name of the template of at least 100 MB.
const largeTemplate = "large-os"

// benchProvision is P2: the provision stage's unpacking (the same code, in a process of
// its own) against GNU tar on the same archive and disk, caches dropped before each;
// then, on loop-mounted file systems that can reflink, a clone of the unpacked template
// cache against tar there.
func (b *bench) benchProvision() error {
	for _, suffix := range []string{".tar.gz", ".tar.zst"} {
		archive := b.host.Path("vz/template/cache/" + largeTemplate + suffix)
		ours, tar, err := b.provisionVsTar(archive, b.scratch, templates.CacheOff, suffix == ".tar.gz")
		if err != nil {
			return err
		}
		b.add(Row{ID: "P2", What: "provision, large template " + suffix + ", cold cache", Ours: statOf(ours),
			Baseline: "GNU tar -x + sync -f", Base: statOf(totals(tar)), Target: 1.0, Note: syncShare(tar)})
	}
	for _, fs := range strings.Split(b.opts.CloneFS, ",") {
		if fs == "" {
			continue
		}
		if err := b.benchClone(fs); err != nil {
			return err
		}
	}
	return nil
}

// provisionVsTar alternates the provision helper and GNU tar on archive, each into a
// fresh directory under dir after a cold settle, and returns both series.
func (b *bench) provisionVsTar(archive, dir, mode string, check bool) (ours []time.Duration, tar []tarTimes, err error) {
	where := fmt.Sprintf("P2 %s (%s)", filepath.Base(archive), mode)
	for i := range b.opts.HeavyReps {
		a, t := filepath.Join(dir, "p2-ours"), filepath.Join(dir, "p2-tar")
		for _, d := range []string{a, t} {
			if err := os.Mkdir(d, 0o700); err != nil {
				return nil, nil, err
			}
		}
		if err := settle(b.opts.Cold); err != nil {
			return nil, nil, err
		}
		res, err := runMeasured("provision", where, b.self, "__provision", "-cache", mode, archive, a)
		if err != nil {
			return nil, nil, err
		}
		if want := "method=" + modeMethod(mode); !strings.Contains(res.Stdout, want) {
			return nil, nil, fmt.Errorf("provision of %s: %q, want %s", archive, strings.TrimSpace(res.Stdout), want)
		}
		if err := settle(b.opts.Cold); err != nil {
			return nil, nil, err
		}
		tr, err := gnuTar(archive, t)
		if err != nil {
			return nil, nil, err
		}
		if check && i == 0 {
			if err := sameTree(t, a); err != nil {
				return nil, nil, err
			}
		}
		ours, tar = append(ours, res.Wall), append(tar, tr)
		for _, d := range []string{a, t} {
			if err := os.RemoveAll(d); err != nil {
				return nil, nil, err
			}
		}
	}
	return ours, tar, nil
}

func totals(ts []tarTimes) []time.Duration {
	var out []time.Duration
	for _, t := range ts {
		out = append(out, t.total())
	}
	return out
}

// syncShare says how much of GNU tar's time was its syncfs (provision's time includes one).
func syncShare(ts []tarTimes) string {
	var x, s []time.Duration
	for _, t := range ts {
		x, s = append(x, t.tar), append(s, t.sync)
	}
	return fmt.Sprintf("GNU tar medians: tar -x %s, sync -f %s", fmtSec(statOf(x).Median), fmtSec(statOf(s).Median))
}

func modeMethod(mode string) string {
	if mode == templates.CacheOff {
		return templates.MethodUntar
	}
	return templates.MethodClone
}

// sameTree checks that provisioning made what GNU tar makes: a benchmark of a wrong
// result would be worthless.
func sameTree(want, got string) error {
	w, err := testenv.HashTree(want)
	if err != nil {
		return err
	}
	g, err := testenv.HashTree(got)
	if err != nil {
		return err
	}
	if diff := cmp.Diff(w, g); diff != "" {
		return fmt.Errorf("provision and GNU tar made different trees (-tar +provision):\n%s", diff)
	}
	return nil
}

// benchClone mounts a loop file system of type fs, puts the large template there and
// compares provisioning by clone from its unpacked cache with GNU tar on that file system.
func (b *bench) benchClone(fs string) error {
	what := "provision by reflink clone of the unpacked cache, " + fs
	if _, err := exec.LookPath("mkfs." + fs); err != nil {
		b.skip("P2", what, "mkfs."+fs+" is not installed (apt-get install "+map[string]string{"xfs": "xfsprogs", "btrfs": "btrfs-progs"}[fs]+")")
		return nil
	}
	mnt, err := b.mountLoop(fs, 4*b.opts.TemplateMB<<20+(512<<20))
	if err != nil {
		b.skip("P2", what, err.Error())
		return nil
	}
	cacheDir := filepath.Join(mnt, "vz/template/cache")
	private := filepath.Join(mnt, "vz/private")
	for _, d := range []string{cacheDir, private} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	archive := filepath.Join(cacheDir, largeTemplate+".tar.zst")
	if _, err := run("cp", b.host.Path("vz/template/cache/"+largeTemplate+".tar.zst"), archive); err != nil {
		return err
	}
	// First use builds the cache; only later clones are measured.
	warm := filepath.Join(private, "warm")
	if err := os.Mkdir(warm, 0o700); err != nil {
		return err
	}
	start := time.Now()
	res, err := run(b.self, "__provision", "-cache", templates.CacheAuto, archive, warm)
	if err != nil {
		return err
	}
	if !strings.Contains(res.Stdout, "method="+templates.MethodClone) {
		b.skip("P2", what, fs+" cannot reflink here: "+strings.TrimSpace(res.Stdout))
		return nil
	}
	logf("P2 %s: first use built the cache and cloned it in %s", fs, fmtSec(time.Since(start).Seconds()))
	if err := os.RemoveAll(warm); err != nil {
		return err
	}
	ours, tar, err := b.provisionVsTar(archive, private, templates.CacheAuto, true)
	if err != nil {
		return err
	}
	b.add(Row{ID: "P2", What: what, Ours: statOf(ours), Baseline: "GNU tar --zstd -x + sync -f, same " + fs,
		Base: statOf(totals(tar)), Target: 0.1, Note: syncShare(tar)})
	return nil
}

// mountLoop makes a sparse image of size bytes in the scratch directory, formats it with
// fs and mounts it; the mount is removed at the end of the run.
func (b *bench) mountLoop(fs string, size int) (string, error) {
	img := filepath.Join(b.scratch, fs+".img")
	mnt := filepath.Join(b.work, fs)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		return "", err
	}
	if err := os.Truncate(img, int64(size)); err != nil {
		return "", err
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return "", err
	}
	if _, err := run("mkfs."+fs, "-q", img); err != nil {
		return "", err
	}
	if _, err := run("mount", "-o", "loop", img, mnt); err != nil {
		return "", fmt.Errorf("mount -o loop: %w", err)
	}
	atCleanup(func() { _, _ = run("umount", mnt) })
	return mnt, nil
}

// provisionMain is `reinstall-bench __provision [-cache MODE] ARCHIVE DEST`: what the
// provision stage does to the temporary area, in a process of its own so it can be
// timed and its memory measured like GNU tar's.
func provisionMain(args []string) int {
	fl := flag.NewFlagSet("__provision", flag.ContinueOnError)
	mode := fl.String("cache", templates.CacheOff, "template cache mode: auto, always or off")
	if err := fl.Parse(args); err != nil || fl.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: reinstall-bench __provision [-cache MODE] ARCHIVE DEST")
		return 2
	}
	method, stats, err := templates.Unpack(context.Background(), fl.Arg(0), fl.Arg(1), *mode, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("method=%s files=%d bytes=%d\n", method, stats.Files, stats.Bytes)
	return 0
}
