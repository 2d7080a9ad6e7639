package backfill

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scmon/scmon/daemon"
	"github.com/scmon/scmon/exporter"
	"github.com/scmon/scmon/seeds"
)

// TestSameSeriesAsDaemon runs the daemon (`scmon serve` with no
// configuration) on the sample center with its clock stopped at the end of
// the sample, scrapes its exporter, and requires the backfill of the same
// history to produce exactly the same counter series, label names and
// values included, without and with the account label. The daemon counts
// allocations and capacity up to the time its sources are complete (the
// sample's end), so the backfill is read at that instant.
func TestSameSeriesAsDaemon(t *testing.T) {
	for _, account := range []bool{false, true} {
		t.Run(fmt.Sprintf("account=%v", account), func(t *testing.T) {
			scraped := scrapeDaemon(t, account)
			d := sample(t)
			_, end := seeds.Window()
			g, err := New(d.store, Options{From: end.Add(-3 * time.Second), To: end.Add(time.Second), Step: time.Second,
				Inventory: d.inv, AccountLabel: account})
			if err != nil {
				t.Fatal(err)
			}
			c, err := g.Next()
			if err != nil || c.Len != 5 {
				t.Fatalf("chunk %+v, %v", c, err)
			}
			ours := map[string]float64{}
			for s, sr := range g.Series() {
				fam := g.Families()[sr.Family]
				const at = 3 // the sample's end
				ours[seriesKeyOf(fam.Name, fam.Labels, sr.Values)] = c.Series(s)[at]
			}
			var missing, extra []string
			for k := range scraped {
				if _, ok := ours[k]; !ok {
					missing = append(missing, k)
				}
			}
			for k := range ours {
				if _, ok := scraped[k]; !ok {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing) > 0 || len(extra) > 0 {
				t.Fatalf("%d series scraped, %d backfilled\nscraped only: %v\nbackfilled only: %v", len(scraped), len(ours), missing, extra)
			}
			for k, v := range scraped {
				if !closeEnough(ours[k], v, strings.Contains(k, "billing")) {
					t.Errorf("%s: backfill %v, daemon %v", k, ours[k], v)
				}
			}
			t.Logf("%d counter series, identical", len(scraped))
		})
	}
}

// seriesKeyOf renders a series as name{label=value,...}, labels sorted.
func seriesKeyOf(name string, labels, values []string) string {
	parts := make([]string, len(labels))
	for i := range labels {
		parts[i] = labels[i] + "=" + values[i]
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// scrapeDaemon returns the six counter families of a daemon that serves the
// sample center with its clock at the sample's end.
func scrapeDaemon(t *testing.T, account bool) map[string]float64 {
	t.Helper()
	if account {
		t.Setenv("SCMON_METRICS_ACCOUNT_LABEL", "true")
		t.Setenv("SCMON_SAMPLE", "true")
	}
	cfg, raw, err := daemon.LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics.AccountLabel != account {
		t.Fatalf("account label %v in the configuration, want %v", cfg.Metrics.AccountLabel, account)
	}
	_, end := seeds.Window()
	d, err := daemon.New(cfg, raw, daemon.Options{Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s := d.Snapshot(); s != nil && len(s.Allocated) > 0 && len(s.Capacity) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon published no counters within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exporter.New(d.Snapshot, exporter.Options{AccountLabel: account}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "scmon_allocated_") && !strings.HasPrefix(name, "scmon_capacity_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels, values []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName())
				values = append(values, lp.GetValue())
			}
			v := m.GetCounter().GetValue()
			if math.IsNaN(v) {
				t.Fatalf("%s: NaN", name)
			}
			out[seriesKeyOf(name, labels, values)] = v
		}
	}
	if len(out) == 0 {
		t.Fatal("no counters scraped")
	}
	return out
}
