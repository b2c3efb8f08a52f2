package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Stat summarises repeated measurements of one thing, in seconds.
type Stat struct {
	Median  float64   `json:"median_s"`
	Min     float64   `json:"min_s"`
	Max     float64   `json:"max_s"`
	Samples []float64 `json:"samples_s"`
}

func statOf(samples []time.Duration) Stat {
	s := Stat{}
	for _, d := range samples {
		s.Samples = append(s.Samples, d.Seconds())
	}
	if len(s.Samples) == 0 {
		return s
	}
	sorted := slices.Clone(s.Samples)
	slices.Sort(sorted)
	n := len(sorted)
	s.Min, s.Max = sorted[0], sorted[n-1]
	if n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// sumStats adds per-repetition samples of parts measured in the same repetitions.
func sumStats(parts ...[]time.Duration) []time.Duration {
	var out []time.Duration
	for i := range parts[0] {
		var total time.Duration
		for _, p := range parts {
			total += p[i]
		}
		out = append(out, total)
	}
	return out
}

// result is one finished command.
type result struct {
	Wall   time.Duration
	MaxRSS int64 // KiB, of the process and the children it waited for (runMeasured only)
	Stdout string
	Stderr string
}

// memory keeps the peak RSS of the reinstall processes and of the provision helper.
type memory struct {
	reinstallKiB int64
	reinstallAt  string
	provisionKiB int64
	provisionAt  string
}

var peak memory

// run executes a command, timing it from fork to exit. A non-zero exit is an error that
// carries stderr.
func run(name string, args ...string) (result, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{Wall: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		return res, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, lastLines(res.Stderr, 8))
	}
	return res, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// gnuTime is GNU time. The peak RSS wait4 reports for a child of this process would
// include this process's own: Go starts children with CLONE_VM, and exec records the
// shared memory's high-water mark as the child's. GNU time forks the command from a
// small process, so its %M is the command's own peak (and that of the children it
// reaps, the plugin processes of a reinstall).
var gnuTime = lookGNUTime()

func lookGNUTime() string {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		return ""
	}
	return "/usr/bin/time"
}

// runMeasured is run for a command whose peak memory the report shows (kind
// "reinstall" or "provision"); where names the measurement.
func runMeasured(kind, where, name string, args ...string) (result, error) {
	if gnuTime == "" {
		res, err := run(name, args...)
		res.MaxRSS = 0 // floored at this process's own RSS: not reported
		return res, err
	}
	out, err := os.CreateTemp("", "reinstall-bench-rss-")
	if err != nil {
		return result{}, err
	}
	out.Close()
	defer os.Remove(out.Name())
	res, err := run(gnuTime, append([]string{"-f", "%M", "-o", out.Name(), name}, args...)...)
	res.MaxRSS = 0
	if data, rerr := os.ReadFile(out.Name()); rerr == nil {
		// On failure GNU time writes "Command exited with non-zero status N" first.
		if f := strings.Fields(string(data)); len(f) > 0 {
			res.MaxRSS, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	}
	notePeak(kind, where, res)
	return res, err
}

// notePeak records a reinstall (or provision helper) process's peak RSS.
func notePeak(kind, where string, res result) {
	switch kind {
	case "reinstall":
		if res.MaxRSS > peak.reinstallKiB {
			peak.reinstallKiB, peak.reinstallAt = res.MaxRSS, where
		}
	case "provision":
		if res.MaxRSS > peak.provisionKiB {
			peak.provisionKiB, peak.provisionAt = res.MaxRSS, where
		}
	}
}

// settle makes runs start from the same state: dirty pages written back (syncfs of
// every file system, so one run's writeback is not paid by the next) and, when cold,
// the page, dentry and inode caches dropped.
func settle(cold bool) error {
	unix.Sync()
	if !cold {
		return nil
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
		return fmt.Errorf("drop caches: %w", err)
	}
	return nil
}

// canDropCaches reports whether this process may drop the page cache.
func canDropCaches() bool {
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0o200) == nil
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "reinstall-bench: "+format+"\n", args...)
	cleanupAll()
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
