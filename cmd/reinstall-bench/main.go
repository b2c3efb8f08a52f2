// Command reinstall-bench measures reinstall against baselines measured in the same run
// (issue 8, P1–P5): it builds its own demo host under a temporary --root, repeats every
// measurement, prints a table of medians, spreads and ratios, and writes it as JSON.
// It is a program, not a test: nothing here asserts timings. Run it with `make bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reinstall-dev/reinstall/internal/testenv"
)

// options are the command line; the defaults are the sizes.
type options struct {
	Reinstall     string `json:"-"`
	JSON          string `json:"-"`
	Workdir       string `json:"-"`
	Only          string `json:"only,omitempty"`
	Reps          int    `json:"reps"`
	HeavyReps     int    `json:"heavy_reps"`
	TemplateMB    int    `json:"template_mb"`
	OldSmallMB    int64  `json:"old_small_mb"`
	OldSmallFiles int    `json:"old_small_files"`
	OldLargeMB    int64  `json:"old_large_mb"`
	OldLargeFiles int    `json:"old_large_files"`
	Parallel      int    `json:"parallel"`
	ParallelReps  int    `json:"parallel_reps"`
	RefReps       int    `json:"copy_reference_reps"`
	CloneFS       string `json:"clone_fs"`
	Cold          bool   `json:"cold"`
	Markdown      bool   `json:"-"`
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.Reinstall, "reinstall", "bin/reinstall", "the reinstall binary to measure")
	flag.StringVar(&o.JSON, "json", "bin/bench.json", "write the table as JSON here")
	flag.StringVar(&o.Workdir, "workdir", os.TempDir(), "where the temporary host is made (its file system is the one measured)")
	flag.StringVar(&o.Only, "only", "", "comma-separated subset of P1,P2,P3,P4,P5,P6")
	flag.IntVar(&o.Reps, "reps", 5, "repetitions of the quick measurements")
	flag.IntVar(&o.HeavyReps, "heavy-reps", 3, "repetitions of the cold extractions of P2")
	flag.IntVar(&o.TemplateMB, "template-mb", 150, "size of the large template, unpacked")
	flag.Int64Var(&o.OldSmallMB, "old-small-mb", 200, "customer data in the mid-sized old area")
	flag.IntVar(&o.OldSmallFiles, "old-small-files", 10_000, "files in the mid-sized old area")
	flag.Int64Var(&o.OldLargeMB, "old-large-mb", 2048, "customer data in the large old area")
	flag.IntVar(&o.OldLargeFiles, "old-large-files", 100_000, "files in the large old area")
	flag.IntVar(&o.Parallel, "parallel", 20, "containers reinstalled at once in P5")
	flag.IntVar(&o.ParallelReps, "parallel-reps", 2, "repetitions of P5 (each is N at once and N in a row)")
	flag.IntVar(&o.RefReps, "ref-reps", 2, "repetitions of the copy-based reference of P1 (the slowest measurement)")
	flag.StringVar(&o.CloneFS, "clone-fs", "xfs", "loop file systems for the clone measurement (xfs, btrfs; empty: none)")
	flag.BoolVar(&o.Cold, "cold", true, "drop the page cache before each P2 extraction")
	flag.BoolVar(&o.Markdown, "markdown", false, "also print the table as Markdown")
	flag.Parse()
	return o
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "__provision" {
		os.Exit(provisionMain(os.Args[2:]))
	}
	opts := parseOptions()
	if os.Geteuid() != 0 {
		fatalf("needs root (containers, mounts, dropping caches)")
	}
	began := time.Now()
	loadBefore := describeMachine("/").Load
	b, err := setup(opts)
	if err != nil {
		fatalf("setup: %v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { s := <-sig; fatalf("interrupted (%v)", s) }()

	scenarios := []struct {
		id  string
		run func() error
	}{{"P3", b.benchOverhead}, {"P4", b.benchDowntime}, {"P5", b.benchParallel}, {"P2", b.benchProvision}, {"P1", b.benchOldData}, {"P6", b.benchRealOS}}
	for _, s := range scenarios {
		if opts.Only != "" && !slices.Contains(strings.Split(opts.Only, ","), s.id) {
			continue
		}
		logf("%s ...", s.id)
		if err := s.run(); err != nil {
			fatalf("%s: %v", s.id, err)
		}
	}
	slices.SortStableFunc(b.rows, func(x, y Row) int { return strings.Compare(x.ID[:2], y.ID[:2]) })
	m := describeMachine(b.root)
	m.Load = loadBefore + " at the start, " + m.Load + " at the end"
	fmt.Printf("\nreinstall benchmark: %s\n", m)
	fmt.Printf("ratios are ours/baseline medians over the repetitions, both measured in this run; [min–max] is the spread\n\n")
	printTable(os.Stdout, b.rows, false)
	if opts.Markdown {
		fmt.Println()
		printTable(os.Stdout, b.rows, true)
	}
	printPeaks()
	elapsed := time.Since(began)
	rep := report{Started: began, Seconds: elapsed.Seconds(), Machine: m, Options: opts, Rows: b.rows,
		PeakRSSKiB: peak.reinstallKiB, PeakRSSWhere: peak.reinstallAt, ProvisionKiB: peak.provisionKiB, ProvisionAt: peak.provisionAt}
	cleanupAll()
	if opts.JSON != "" {
		if err := writeJSON(opts.JSON, rep); err != nil {
			fatalf("%v", err)
		}
		fmt.Printf("\ntable written to %s; the whole run took %s\n", opts.JSON, elapsed.Round(time.Second))
	}
}

// printPeaks reports the largest peak RSS of a reinstall and of the provision helper.
func printPeaks() {
	fmt.Printf("\npeak memory (max RSS of one process, GNU time's %%M):\n")
	if gnuTime == "" {
		fmt.Printf("  not measured: /usr/bin/time (GNU time) is missing\n")
		return
	}
	if peak.reinstallKiB > 0 {
		fmt.Printf("  reinstall, and each plugin process it reaps: %.1f MiB (%s)\n", float64(peak.reinstallKiB)/1024, peak.reinstallAt)
	}
	if peak.provisionKiB > 0 {
		fmt.Printf("  provision helper (the provision stage's unpacking alone): %.1f MiB (%s)\n", float64(peak.provisionKiB)/1024, peak.provisionAt)
	}
}

// setup builds the host: the tiny busybox template, the large template (.tar.gz and
// .tar.zst), and a scratch directory on the same file system as the private areas.
func setup(opts options) (*bench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(opts.Reinstall)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w (run `make build`)", err)
	}
	work, err := os.MkdirTemp(opts.Workdir, "reinstall-bench.")
	if err != nil {
		return nil, err
	}
	b := &bench{opts: opts, bin: bin, self: self, work: work, root: filepath.Join(work, "root"), scratch: filepath.Join(work, "scratch")}
	atCleanup(func() { os.RemoveAll(work) })
	atCleanup(b.stopAll)
	if err := os.MkdirAll(b.scratch, 0o700); err != nil {
		return nil, err
	}
	if b.host, err = testenv.NewHost(b.root); err != nil {
		return nil, err
	}
	if !canDropCaches() {
		logf("cannot drop the page cache here: P2 runs warm")
		b.opts.Cold = false
	}
	if opts.Only == "P6" {
		return b, nil // the real Debian template only: no large template to build
	}
	start := time.Now()
	rootfs := filepath.Join(work, "large-rootfs")
	files, bytes, err := buildLargeRootfs(rootfs, int64(opts.TemplateMB)<<20)
	if err != nil {
		return nil, fmt.Errorf("large template: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, suffix := range []string{".tar.gz", ".tar.zst"} {
		wg.Go(func() {
			_, errs[i] = testenv.PackTemplate(rootfs, b.host.Path("vz/template/cache"), largeTemplate, suffix)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := os.RemoveAll(rootfs); err != nil {
		return nil, err
	}
	logf("large template: %d host files, %.0f MB unpacked, packed in %s", files, float64(bytes)/1e6, fmtSec(time.Since(start).Seconds()))
	return b, nil
}

// stopAll stops every container the run created (stopping a stopped one is harmless).
func (b *bench) stopAll() {
	for _, id := range b.started {
		_, _ = b.ct("stop", fmt.Sprint(id))
	}
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

// atCleanup registers f to run at the end, last registered first.
func atCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func cleanupAll() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
