package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
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
	MaxRSS int64 // KiB, of the process and the children it waited for
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
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSS = ru.Maxrss
		}
	}
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
