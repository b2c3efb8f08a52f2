package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the table: ours against a baseline measured in the same run.
type Row struct {
	ID       string  `json:"id"`
	What     string  `json:"what"`
	Ours     Stat    `json:"ours"`
	Baseline string  `json:"baseline"`
	Base     Stat    `json:"base"`
	Ratio    float64 `json:"ratio"`          // Ours.Median / Base.Median
	Target   float64 `json:"target_max"`     // the ratio must be at most this; 0: no target
	Met      *bool   `json:"met,omitempty"`  // nil when there is no target
	Note     string  `json:"note,omitempty"` // how to read it, or why it was skipped
	Skipped  bool    `json:"skipped,omitempty"`
}

// add records a row, computing its ratio and verdict; "P2" becomes P2a, P2b, ...
func (b *bench) add(r Row) {
	r.ID = b.nextID(r.ID)
	if r.Base.Median > 0 && !r.Skipped {
		r.Ratio = r.Ours.Median / r.Base.Median
		if r.Target > 0 {
			met := r.Ratio <= r.Target
			r.Met = &met
		}
	}
	b.rows = append(b.rows, r)
	logf("%s %s: %s vs %s = %s", r.ID, r.What, fmtStat(r.Ours), fmtStat(r.Base), fmtRatio(r))
}

// skip records a measurement that could not be made here, and why.
func (b *bench) skip(id, what, why string) {
	id = b.nextID(id)
	b.rows = append(b.rows, Row{ID: id, What: what, Skipped: true, Note: why})
	logf("%s %s: skipped: %s", id, what, why)
}

func (b *bench) nextID(group string) string {
	n := 0
	for _, r := range b.rows {
		if r.ID[:2] == group {
			n++
		}
	}
	return fmt.Sprintf("%s%c", group, 'a'+n)
}

func fmtStat(s Stat) string {
	if len(s.Samples) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s–%s] n=%d", fmtSec(s.Median), fmtSec(s.Min), fmtSec(s.Max), len(s.Samples))
}

func fmtSec(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", s)
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", s)
	default:
		return fmt.Sprintf("%.0fms", s*1000)
	}
}

func fmtRatio(r Row) string {
	if r.Skipped || r.Base.Median == 0 {
		return "-"
	}
	if r.Ratio < 0.1 {
		return fmt.Sprintf("%.3f (1/%.0f)", r.Ratio, 1/r.Ratio)
	}
	return fmt.Sprintf("%.2f", r.Ratio)
}

func fmtTarget(r Row) string {
	switch {
	case r.Target == 0:
		return "info"
	case r.Target < 0.1:
		return fmt.Sprintf("≤ %.2g (1/%.0f)", r.Target, 1/r.Target)
	default:
		return fmt.Sprintf("≤ %.2g", r.Target)
	}
}

func verdict(r Row) string {
	switch {
	case r.Skipped:
		return "skipped"
	case r.Met == nil:
		return ""
	case *r.Met:
		return "met"
	default:
		return "MISSED"
	}
}

// printTable writes the rows as an aligned table, a Markdown one with markdown set.
func printTable(w io.Writer, rows []Row, markdown bool) {
	head := []string{"id", "measurement", "ours: median [min–max]", "baseline", "baseline: median [min–max]", "ratio", "target", "result"}
	if markdown {
		fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
		fmt.Fprintln(w, "|"+strings.Repeat("---|", len(head)))
		for _, r := range rows {
			fmt.Fprintln(w, "| "+strings.Join(cells(r), " | ")+" |")
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.ID, r.Note)
		}
	}
}

func cells(r Row) []string {
	if r.Skipped {
		return []string{r.ID, r.What, "-", "-", "-", "-", "-", "skipped"}
	}
	return []string{r.ID, r.What, fmtStat(r.Ours), r.Baseline, fmtStat(r.Base), fmtRatio(r), fmtTarget(r), verdict(r)}
}

// report is the JSON document written for comparing runs.
type report struct {
	Started      time.Time `json:"started"`
	Seconds      float64   `json:"duration_s"`
	Machine      machine   `json:"machine"`
	Options      options   `json:"options"`
	Rows         []Row     `json:"rows"`
	PeakRSSKiB   int64     `json:"reinstall_peak_rss_kib"`
	PeakRSSWhere string    `json:"reinstall_peak_rss_at"`
	ProvisionKiB int64     `json:"provision_peak_rss_kib"`
	ProvisionAt  string    `json:"provision_peak_rss_at"`
}

func writeJSON(path string, rep report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
