package backfill

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// The tests in this file run the real thing: the scmon binary built from
// this tree, promtool, and a Prometheus started by
// scripts/testenv/prometheus-up.sh (as root, like the other end-to-end
// tests). They are skipped when a tool is missing, and fail instead when
// SCMON_TEST_REQUIRE_TOOLS=1 (in CI).

// runTool runs a command and returns its standard output; a failure ends
// the test with its standard error.
func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	if s := stderr.String(); s != "" {
		t.Logf("%s: %s", filepath.Base(name), strings.TrimSpace(s))
	}
	return out
}

// startPrometheus starts a Prometheus of its own (internal/testutil) with
// the given SCMON_PROM_* settings and returns its base URL. Nothing listens
// on its scrape target, port 9 (discard): the scrape only writes up=0, at
// the present, which is what a live Prometheus holds, and the script does
// not wait for a first scrape.
func startPrometheus(t *testing.T, env ...string) string {
	t.Helper()
	return testutil.StartPrometheus(t, "127.0.0.1:9", nil, append([]string{"SCMON_PROM_WAIT_SCRAPE=0"}, env...)...)
}

// promQuery evaluates expr at instant at and returns each series' value,
// keyed by its labels rendered as k=v,... (sorted).
func promQuery(t *testing.T, base, expr string, at time.Time) map[string]float64 {
	t.Helper()
	q := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" {
		t.Fatalf("%s: %s", expr, r.Error)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		var names, values []string
		for k, v := range s.Metric {
			names = append(names, k)
			values = append(values, v)
		}
		v, err := strconv.ParseFloat(s.Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(seriesKeyOf("", names, values), "{"), "}")] = v
	}
	return out
}

// sameHours compares Prometheus's seconds with the report's hours: the
// same integer divided by 3600, so equal up to the last digit.
func sameHours(seconds, hours float64) bool {
	return math.Abs(seconds/3600-hours) <= 1e-12*math.Max(1, math.Abs(hours))
}

// checkAgainstReport queries increase() of the backfilled counters over
// each window [a, b] at b and requires what `scmon report` says for [a, b),
// and, for core-seconds, exactly what the usage engine computes.
func checkAgainstReport(t *testing.T, bin, base, selector string, windows [][2]time.Time) {
	t.Helper()
	d := sample(t)
	for _, w := range windows {
		a, b := w[0], w[1]
		r := fmt.Sprintf("%ds", int64(b.Sub(a)/time.Second))
		name := a.Format(time.RFC3339) + "/" + b.Format(time.RFC3339)
		var rep, byPC apiv1.Report
		if err := json.Unmarshal(runTool(t, bin, "report", "-q", "-o", "json", "--from", a.Format(time.RFC3339), "--to", b.Format(time.RFC3339)), &rep); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(runTool(t, bin, "report", "-q", "-o", "json", "--by", "partition,class", "--from", a.Format(time.RFC3339), "--to", b.Format(time.RFC3339)), &byPC); err != nil {
			t.Fatal(err)
		}
		engine, err := d.store.Compute(usage.Query{From: a, To: b, By: []usage.Key{usage.KeyPartition, usage.KeyClass}, Inventory: d.inv})
		if err != nil {
			t.Fatal(err)
		}
		exact := map[string]float64{}
		for _, g := range engine.Groups {
			exact["class="+g.Values[1]+",partition="+g.Values[0]] = float64(g.Allocated.Total().CoreSeconds)
		}

		// Per partition and class: core, node and billing seconds.
		for _, fam := range []string{"core", "node", "billing"} {
			got := promQuery(t, base, fmt.Sprintf("sum by (partition, class) (increase(scmon_allocated_%s_seconds_total%s[%s]))", fam, selector, r), b)
			if len(got) != 16 {
				t.Fatalf("%s %s: %d series, want 4 partitions x 4 classes", name, fam, len(got))
			}
			seen := 0
			for _, g := range byPC.Groups {
				k := "class=" + g.Keys["class"] + ",partition=" + g.Keys["partition"]
				v, ok := got[k]
				if !ok {
					t.Fatalf("%s %s: no series %s", name, fam, k)
				}
				seen++
				want := map[string]float64{"core": g.CPU.AllocatedHours, "node": g.Nodes.AllocatedHours, "billing": g.Billing.AllocatedHours}[fam]
				if !sameHours(v, want) {
					t.Errorf("%s %s %s: Prometheus %v s = %.10f h, report %.10f h", name, fam, k, v, v/3600, want)
				}
			}
			for k, v := range got {
				if fam == "core" && v != exact[k] {
					t.Errorf("%s core %s: Prometheus %v, usage engine %v", name, k, v, exact[k])
				}
			}
			if seen == 0 {
				t.Fatalf("%s: the report has no groups", name)
			}
		}
		// The same window as a difference of two instants: exact in any
		// Prometheus version, whatever its range-selector boundaries.
		got := promQuery(t, base, fmt.Sprintf("sum by (partition, class) (scmon_allocated_core_seconds_total%s - scmon_allocated_core_seconds_total%s offset %s)", selector, selector, r), b)
		for k, v := range got {
			if v != exact[k] {
				t.Errorf("%s core %s by offset: %v, usage engine %v", name, k, v, exact[k])
			}
		}
		// Accelerators by model, capacity in core-seconds.
		acc := promQuery(t, base, fmt.Sprintf("sum by (model) (increase(scmon_allocated_accelerator_seconds_total%s[%s]))", selector, r), b)
		for model, m := range rep.Accelerator.ByModel {
			if !sameHours(acc["model="+model], m.AllocatedHours) {
				t.Errorf("%s accelerator %s: Prometheus %v s, report %v h", name, model, acc["model="+model], m.AllocatedHours)
			}
		}
		capacity := promQuery(t, base, fmt.Sprintf("sum(increase(scmon_capacity_core_seconds_total%s[%s]))", selector, r), b)
		if !sameHours(capacity[""], rep.CPU.CapacityHours) {
			t.Errorf("%s capacity: Prometheus %v s, report %v h", name, capacity[""], rep.CPU.CapacityHours)
		}
		t.Logf("%s: allocated %.2f core-hours, capacity %.0f core-hours: as the report", name, rep.CPU.AllocatedHours, rep.CPU.CapacityHours)
	}
}

// TestOpenMetricsThroughPromtool: scmon backfill --openmetrics, then
// promtool tsdb create-blocks-from openmetrics, then a real Prometheus
// started on those blocks (copied into its data directory and handed to the
// user it runs as): increase() over backfilled windows is what scmon
// report says.
func TestOpenMetricsThroughPromtool(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	testutil.RequireTool(t, "prometheus")
	testutil.RequireRoot(t)
	bin := testutil.ScmonBinary(t)
	dir := t.TempDir()
	_, end := seeds.Window()
	from := end.Add(-72 * time.Hour)
	om := filepath.Join(dir, "sample.om")
	runTool(t, bin, "backfill", "--openmetrics", om, "--from", from.Format(time.RFC3339), "--to", end.Format(time.RFC3339), "--step", "5m")
	blocks := filepath.Join(dir, "blocks")
	out := runTool(t, promtool, "tsdb", "create-blocks-from", "openmetrics", om, blocks)
	if !strings.Contains(string(out), "BLOCK ULID") {
		t.Fatalf("promtool made no blocks:\n%s", out)
	}
	base := startPrometheus(t, "SCMON_PROM_BLOCKS_DIR="+blocks)
	if n := promQuery(t, base, "count(scmon_allocated_core_seconds_total)", end); n[""] != 16 {
		t.Fatalf("%v core series at the end", n)
	}
	checkAgainstReport(t, bin, base, "", [][2]time.Time{
		{from, end},
		{end.Add(-24 * time.Hour), end.Add(-23 * time.Hour)},
		{from.Add(13*time.Hour + 35*time.Minute), end.Add(-22*time.Hour + 10*time.Minute)},
	})
}

// TestRemoteWriteToPrometheus: scmon backfill --remote-write of the whole
// 30 days into a real Prometheus that already holds a present-day sample
// (so out-of-order ingestion must be on): increase() over backfilled
// windows is what scmon report says, including the month and a day on
// which nodes joined.
func TestRemoteWriteToPrometheus(t *testing.T) {
	bin := testutil.ScmonBinary(t)
	from, end := seeds.Window()
	days := int(time.Since(from).Hours()/24) + 7
	base := startPrometheus(t, fmt.Sprintf("SCMON_PROM_OOO_WINDOW=%dd", days))
	runTool(t, bin, "backfill", "--remote-write", base+"/api/v1/write", "--label", "job=scmon-backfill", "--batch", "3000")
	if n := promQuery(t, base, `count(scmon_allocated_core_seconds_total{job="scmon-backfill"})`, end); n[""] != 16 {
		t.Fatalf("%v core series at the end", n)
	}
	checkAgainstReport(t, bin, base, `{job="scmon-backfill"}`, [][2]time.Time{
		{from, end},
		{from.Add(14*24*time.Hour + 12*time.Hour), from.Add(15*24*time.Hour + 12*time.Hour)},
		{end.Add(-time.Hour), end},
	})
}
