package backfill

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
	"github.com/scmon/scmon/seeds"
)

// The tests in this file run scmon backfill against a real single-node
// VictoriaMetrics (the Debian package's victoria-metrics binary), the
// central store of the federation example in deploy/federation. Like the
// Prometheus tests they are skipped when the binary is missing, and fail
// instead when SCMON_TEST_REQUIRE_TOOLS=1 (in CI).

// vmFlush makes everything VictoriaMetrics received searchable now rather
// than after its periodic flush.
func vmFlush(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("force_flush: %s", resp.Status)
	}
}

// TestRemoteWriteToVictoriaMetrics: scmon backfill --remote-write of the
// sample center's 30 days into VictoriaMetrics' Prometheus remote-write
// endpoint, where a center's history lands next to its live series.
// VictoriaMetrics takes samples of any age within its retention (no
// out-of-order setting), and its increase() does not extrapolate: over a
// window (t-R, t] it is the last sample in the window minus the last
// sample at or before t-R. Over windows that start and end on the step
// grid it equals scmon report for the same window, as the offset form
// does; checkAgainstReport checks both, per partition and class, for
// cores, nodes, billing units, accelerators by model and capacity.
func TestRemoteWriteToVictoriaMetrics(t *testing.T) {
	bin := testutil.ScmonBinary(t)
	base := testutil.StartVictoriaMetrics(t, "")
	from, end := seeds.Window()
	runTool(t, bin, "backfill", "--remote-write", base+"/api/v1/write", "--label", "job=scmon-backfill", "--batch", "3000")
	vmFlush(t, base)
	if n := promQuery(t, base, `count(scmon_allocated_core_seconds_total{job="scmon-backfill"})`, end); n[""] != 16 {
		t.Fatalf("%v core series at the end", n)
	}
	checkAgainstReport(t, bin, base, `{job="scmon-backfill"}`, [][2]time.Time{
		{from, end},
		{from.Add(14*24*time.Hour + 12*time.Hour), from.Add(15*24*time.Hour + 12*time.Hour)},
		{end.Add(-time.Hour), end},
		{end.Add(-24 * time.Hour), end.Add(-23 * time.Hour)},
	})
}

// TestVictoriaMetricsIncreaseEdges pins down how VictoriaMetrics (the
// Debian package's version) computes increase() and rate() at the edges,
// with a counter imported with timestamps: samples every 10 s from t0,
// values 100, 110, 130, 160. The federation README
// relies on these rules; a new VictoriaMetrics that changes them fails
// here first.
func TestVictoriaMetricsIncreaseEdges(t *testing.T) {
	base := testutil.StartVictoriaMetrics(t, "")
	t0 := time.Now().Add(-10 * time.Minute).Truncate(10 * time.Second)
	values := []float64{100, 110, 130, 160}
	var samples []string
	for i, v := range values {
		samples = append(samples, fmt.Sprintf("edge_total %g %d", v, t0.Add(time.Duration(i)*10*time.Second).UnixMilli()))
	}
	resp, err := http.Post(base+"/api/v1/import/prometheus", "text/plain", strings.NewReader(strings.Join(samples, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("import: %s", resp.Status)
	}
	vmFlush(t, base)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	for _, c := range []struct {
		expr string
		at   int
		want string // "" means no result
		why  string
	}{
		{"increase(edge_total[10s])", 20, "20", "window (10, 20]: 130 minus the sample at 10"},
		{"increase(edge_total[15s])", 20, "30", "window (5, 20]: 130 minus the last sample at or before 5 (100); Prometheus would extrapolate"},
		{"edge_total - edge_total offset 15s", 20, "30", "the offset form: the same two samples"},
		{"increase(edge_total[10s])", 25, "20", "window (15, 25]: 130 minus the sample at 10, the last at or before 15"},
		{"increase(edge_total[3s])", 25, "", "no sample inside the window: no result, though one precedes it"},
		{"increase(edge_total[30s])", 30, "60", "window (0, 30]: 160 minus the sample at 0"},
		{"increase(edge_total[31s])", 30, "160", "the series starts inside the window and its first value is small next to its steps: counted from 0"},
		{"rate(edge_total[15s])", 20, "1.5", "(130 - 100) / 20 s: divided by the time between the two samples, not by the window"},
		{"rate(edge_total[60s])", 30, "2", "(160 - 100) / 30 s: no earlier sample, so from the first one"},
	} {
		got := promQuery(t, base, c.expr, at(c.at))
		var s string
		for _, v := range got {
			s = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if len(got) > 1 || s != c.want {
			t.Errorf("%s at t0+%ds = %v, want %q: %s", c.expr, c.at, got, c.want, c.why)
		}
	}
	// A large counter (scmon's are cumulative resource-seconds) that
	// starts inside the window is counted from its first sample, not
	// from 0: the heuristic is value < 10 x (first step + 1).
	big := fmt.Sprintf("big_total 1e9 %d\nbig_total 1.00000001e9 %d\n", at(0).UnixMilli(), at(10).UnixMilli())
	resp, err = http.Post(base+"/api/v1/import/prometheus", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	vmFlush(t, base)
	if got := promQuery(t, base, "increase(big_total[60s])", at(10)); got[""] != 10 {
		t.Errorf("increase of a large counter starting in the window = %v, want 10 (from its first sample)", got)
	}
}
