package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/scmon/scmon/backfill"
)

type backfillFlags struct {
	sourceFlags
	from, to     string
	step         time.Duration
	openMetrics  string
	remoteWrite  string
	headers      []string
	batch        int
	labels       []string
	accountLabel bool
	spoolDir     string
	quiet        bool
}

// The steps scmon backfill accepts: finer multiplies the output for no
// gain over a scrape interval; coarser than the 5-minute lookback of
// PromQL leaves instant queries with gaps, and beyond an hour with nothing.
const (
	minBackfillStep = time.Minute
	maxBackfillStep = time.Hour
)

func newBackfillCommand(stdout, stderr io.Writer) *cobra.Command {
	var f backfillFlags
	c := &cobra.Command{
		Use:   "backfill",
		Short: "Turn a job history into Prometheus series for the past (OpenMetrics or remote write)",
		Long: `Backfill computes, from job records and capacity, the counters that scmon serve
exports (scmon_allocated_{core,accelerator,billing,node}_seconds_total and
scmon_capacity_{core,accelerator}_seconds_total, with the same names and
labels) at every --step of a past window, so that dashboards and recording
rules cover the time before Prometheus scraped scmon. A counter's value at t
is the resource-seconds held from the start of the history up to t, exactly;
increase() between two samples equals scmon report for that window.

Output, one of:
  --openmetrics FILE   OpenMetrics text with timestamps, for
                       promtool tsdb create-blocks-from openmetrics FILE DIR;
                       move the blocks of DIR into Prometheus's data directory,
                       owned by the user Prometheus runs as.
  --remote-write URL   Prometheus remote write 1.0 (e.g.
                       http://prometheus:9090/api/v1/write, started with
                       --web.enable-remote-write-receiver), oldest first. A
                       Prometheus refuses samples older than its head unless
                       storage.tsdb.out_of_order_time_window covers them.

Either way the receiver's retention must reach back to --from, or the
backfilled data is deleted at once. To make backfilled and live data one
series, give --label job=... --label instance=... with the values of
Prometheus's scrape of scmon, and let scmon serve's job store hold the same
history (its counters, too, count from the start of the history it holds).
The window gauges (scmon_utilization_ratio, scmon_ai_share*_ratio) are not
backfilled: recording rules over the counters give the same ratios.

With no --input it runs on the built-in sample center.`,
		Example: `  scmon backfill --openmetrics sample.om
  promtool tsdb create-blocks-from openmetrics sample.om ./blocks
  scmon backfill --input slurm-sacct:jobs.psv --capacity inventory:center.yaml \
      --from 2025-01-01 --to 2025-07-01 --step 5m --label job=scmon \
      --remote-write http://127.0.0.1:9090/api/v1/write`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBackfill(c.Context(), f, stdout, stderr) },
	}
	addSourceFlags(c, &f.sourceFlags)
	fl := c.Flags()
	fl.StringVar(&f.from, "from", "", "first sample: RFC 3339, or YYYY-MM-DDTHH:MM:SS in --timezone (default: the records' start, rounded down to the step)")
	fl.StringVar(&f.to, "to", "", "last sample time at most (default: the records' end)")
	fl.DurationVar(&f.step, "step", 5*time.Minute, "spacing of the samples, from 1m to 1h")
	fl.StringVar(&f.openMetrics, "openmetrics", "", `write OpenMetrics text to this file ("-": standard output)`)
	fl.StringVar(&f.remoteWrite, "remote-write", "", "send to this Prometheus remote-write URL")
	fl.StringArrayVar(&f.headers, "remote-write.header", nil, "HTTP header K=V for every remote-write request (repeatable)")
	fl.IntVar(&f.batch, "batch", backfill.DefaultBatch, "samples per remote-write request")
	fl.StringArrayVar(&f.labels, "label", nil, "label K=V added to every series, e.g. job=scmon (repeatable)")
	fl.BoolVar(&f.accountLabel, "account-label", false, "add the account label to the allocated counters (as metrics.account_label in scmon serve)")
	fl.StringVar(&f.spoolDir, "spool-dir", "", "directory of the temporary spool file of --openmetrics (default: the output's directory)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print no summary and do not log skipped lines (they are still counted)")
	return c
}

// parsePairs reads K=V flags.
func parsePairs(flag string, in []string) ([][2]string, error) {
	var out [][2]string
	for _, s := range in {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--%s %q: want K=V", flag, s)
		}
		out = append(out, [2]string{strings.TrimSpace(k), v})
	}
	return out, nil
}

func runBackfill(ctx context.Context, f backfillFlags, stdout, stderr io.Writer) error {
	if (f.openMetrics == "") == (f.remoteWrite == "") {
		return usagef("give one of --openmetrics FILE and --remote-write URL")
	}
	if f.step < minBackfillStep || f.step > maxBackfillStep || f.step%time.Second != 0 {
		return usagef("--step %s: want whole seconds from %s to %s", f.step, minBackfillStep, maxBackfillStep)
	}
	if f.batch <= 0 {
		return usagef("--batch %d: want a positive number of samples", f.batch)
	}
	headers, err := parsePairs("remote-write.header", f.headers)
	if err != nil {
		return err
	}
	pairs, err := parsePairs("label", f.labels)
	if err != nil {
		return err
	}
	var labels []backfill.Label
	for _, p := range pairs {
		labels = append(labels, backfill.Label{Name: p[0], Value: p[1]})
	}

	logger := newLogger(stderr, f.quiet)
	l, err := load(f.sourceFlags, logger)
	if err != nil {
		return err
	}
	from, to, rule, err := window(reportFlags{sourceFlags: f.sourceFlags, from: f.from, to: f.to}, l)
	if err != nil {
		return err
	}
	step := int64(f.step / time.Second)
	if f.from == "" && !l.sample {
		from = time.Unix(from.Unix()/step*step, 0).In(from.Location())
	}
	g, err := backfill.New(l.store, backfill.Options{From: from, To: to, Step: f.step, Inventory: l.inventory,
		AccountLabel: f.accountLabel, Labels: labels, DeviceOrigin: l.table.Origin})
	if err != nil {
		return usageError{err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	began := time.Now()
	var st backfill.Stats
	var dest string
	if f.openMetrics != "" {
		dest = f.openMetrics
		st, err = writeOpenMetricsFile(g, f, stdout)
	} else {
		dest = f.remoteWrite
		h := http.Header{}
		for _, p := range headers {
			h.Add(p[0], p[1])
		}
		ver, _, _ := buildVersion()
		st, err = backfill.WriteRemote(ctx, g, backfill.RemoteWriteOptions{URL: f.remoteWrite, Header: h, Batch: f.batch,
			UserAgent: "scmon-backfill/" + ver, Logger: logger})
	}
	if err != nil {
		return err
	}
	if !f.quiet {
		last := g.Start().Add(time.Duration(g.Points()-1) * g.Step())
		fmt.Fprintf(stderr, "scmon backfill: %d series, %d samples each (%d in all) from %s to %s every %s (%s), history from %s; %s to %s",
			st.Series, g.Points(), st.Samples, g.Start().In(l.location).Format(time.RFC3339), last.In(l.location).Format(time.RFC3339),
			g.Step(), rule, formatOrigin(g.Origin(), l), byteCount(st.Bytes), dest)
		if st.Requests > 0 {
			fmt.Fprintf(stderr, " in %d requests (%d retried)", st.Requests, st.Retries)
		}
		fmt.Fprintf(stderr, " in %.1f s\n", time.Since(began).Seconds())
	}
	return nil
}

// writeOpenMetricsFile writes to the file (through a temporary name,
// renamed at the end, so that a failed run leaves no truncated file) or
// to stdout for "-".
func writeOpenMetricsFile(g *backfill.Generator, f backfillFlags, stdout io.Writer) (backfill.Stats, error) {
	if f.openMetrics == "-" {
		return backfill.WriteOpenMetrics(stdout, g, f.spoolDir)
	}
	dir := filepath.Dir(f.openMetrics)
	spool := f.spoolDir
	if spool == "" {
		spool = dir
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.openMetrics)+".*.tmp")
	if err != nil {
		return backfill.Stats{}, err
	}
	st, err := backfill.WriteOpenMetrics(tmp, g, spool)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // promtool may run as another user
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.openMetrics)
	}
	if err != nil {
		return st, errors.Join(err, os.Remove(tmp.Name()))
	}
	return st, nil
}

func formatOrigin(t time.Time, l *loaded) string {
	if t.IsZero() {
		return "none"
	}
	return t.In(l.location).Format(time.RFC3339)
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
