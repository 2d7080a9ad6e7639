package exporter_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/scmon/scmon/exporter"
	"github.com/scmon/scmon/snapshot"
)

// The daemon publishes a new snapshot after each poll with an atomic
// pointer swap; the exporter reads whichever snapshot is current when a
// scrape arrives.
func ExampleNew() {
	var current atomic.Pointer[snapshot.Snapshot]
	current.Store(&snapshot.Snapshot{
		Time: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC),
		Sources: []snapshot.SourceHealth{
			{Name: "lab-sacct", Up: true},
		},
	})

	reg := prometheus.NewRegistry() // the daemon's own registry, never the default one
	reg.MustRegister(exporter.New(current.Load, exporter.Options{Version: "0.1.0", Revision: "abc"}))
	// ContinueOnError: one bad series never fails the whole scrape.
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))

	out, _ := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain, "scmon_source_up", "scmon_snapshot_timestamp_seconds")
	for line := range strings.SplitSeq(string(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			fmt.Println(line)
		}
	}
	// Output:
	// scmon_snapshot_timestamp_seconds 1.7936118e+09
	// scmon_source_up{source="lab-sacct"} 1
}
