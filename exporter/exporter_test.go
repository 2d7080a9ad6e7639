package exporter

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden exposition files under testdata/")

// testGoVersion pins the goversion label so that golden files do not
// depend on the toolchain.
const testGoVersion = "go-test"

// newTestExporter returns an exporter over a fixed snapshot, with pinned
// build labels.
func newTestExporter(s *snapshot.Snapshot, opts Options) *Exporter {
	if opts.Version == "" {
		opts.Version, opts.Revision = "1.2.3", "0123abcd"
	}
	e := New(func() *snapshot.Snapshot { return s }, opts)
	e.goVersion = testGoVersion
	return e
}

// register returns a fresh pedantic registry holding c.
func register(t testing.TB, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	return reg
}

// exposition returns the text exposition of g, optionally filtered to
// the given families. (testutil.GatherAndFormat drops everything when no
// name is given, so the encoding is done here.)
func exposition(t testing.TB, g prometheus.Gatherer, names ...string) []byte {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if len(names) > 0 && !slices.Contains(names, mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// series gathers g into a map from "name{label="value",...}" (labels
// sorted by name, as the exposition writes them) to value. Summaries are
// split into their _sum and _count series.
func series(t testing.TB, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			id := seriesID(mf.GetName(), m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_SUMMARY:
				out[seriesID(mf.GetName()+"_sum", m.GetLabel())] = m.GetSummary().GetSampleSum()
				out[seriesID(mf.GetName()+"_count", m.GetLabel())] = float64(m.GetSummary().GetSampleCount())
			case dto.MetricType_COUNTER:
				out[id] = m.GetCounter().GetValue()
			default:
				out[id] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func seriesID(name string, labels []*dto.LabelPair) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// sid builds a series id from alternating label names and values.
func sid(name string, kv ...string) string {
	var labels []*dto.LabelPair
	for i := 0; i < len(kv); i += 2 {
		labels = append(labels, &dto.LabelPair{Name: &kv[i], Value: &kv[i+1]})
	}
	return seriesID(name, labels)
}

// goldenCompare compares g with a golden exposition file, or rewrites the
// file when -update is given.
func goldenCompare(t *testing.T, g prometheus.Gatherer, file string, names ...string) {
	t.Helper()
	path := "testdata/" + file
	if *update {
		if err := os.WriteFile(path, exposition(t, g, names...), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
	}
	want, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer want.Close()
	if err := testutil.GatherAndCompare(g, want, names...); err != nil {
		t.Fatalf("exposition differs from %s (go test -update rewrites it after review):\n%v", path, err)
	}
}

// allocatedFamilies are the families that take the account label.
var allocatedFamilies = []string{
	"scmon_allocated_core_seconds_total",
	"scmon_allocated_accelerator_seconds_total",
	"scmon_allocated_billing_seconds_total",
	"scmon_allocated_node_seconds_total",
}

func TestGolden(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		goldenCompare(t, register(t, newTestExporter(fakeSnapshot(), Options{})), "fake.prom")
	})
	t.Run("account", func(t *testing.T) {
		reg := register(t, newTestExporter(fakeSnapshot(), Options{AccountLabel: true}))
		goldenCompare(t, reg, "fake-account.prom", allocatedFamilies...)
	})
}

func TestLint(t *testing.T) {
	for _, opts := range []Options{{}, {AccountLabel: true}} {
		problems, err := testutil.CollectAndLint(newTestExporter(fakeSnapshot(), opts))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("account=%v: %s: %s", opts.AccountLabel, p.Metric, p.Text)
		}
	}
}

// TestMetricNames proves that MetricNames lists exactly the series names a
// scrape of a full snapshot carries, read from the exposition text as
// Prometheus reads it, so that the list cannot drift from the code.
func TestMetricNames(t *testing.T) {
	for _, opts := range []Options{{}, {AccountLabel: true}} {
		text := exposition(t, register(t, newTestExporter(fakeSnapshot(), opts)))
		seen := map[string]bool{}
		for line := range strings.SplitSeq(string(text), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, _, _ := strings.Cut(line, "{")
			name, _, _ = strings.Cut(name, " ")
			seen[name] = true
		}
		got := slices.Sorted(func(yield func(string) bool) {
			for n := range seen {
				if !yield(n) {
					return
				}
			}
		})
		if want := MetricNames(); !slices.Equal(got, want) {
			t.Errorf("account=%v: scraped series names\n%s\nMetricNames()\n%s", opts.AccountLabel,
				strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	names := MetricNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("MetricNames not sorted and unique: %v", names)
	}
}

// TestHelpAndNaming checks the conventions of the families table that
// promlint does not: counters end in _total and nothing else does, every
// HELP text is a sentence, no family carries a job or user label.
func TestHelpAndNaming(t *testing.T) {
	for _, f := range families {
		if (f.kind == counter) != strings.HasSuffix(f.name, "_total") {
			t.Errorf("%s: counters, and only counters, end in _total", f.name)
		}
		if !strings.HasPrefix(f.name, "scmon_") {
			t.Errorf("%s: not in the scmon_ namespace", f.name)
		}
		if !strings.HasSuffix(f.help, ".") || len(f.help) < 20 {
			t.Errorf("%s: HELP %q is not a sentence", f.name, f.help)
		}
		for _, l := range f.labelNames(true) {
			if l == "job" || l == "job_id" || l == "user" {
				t.Errorf("%s: unbounded label %s", f.name, l)
			}
		}
	}
}

// TestClosedSets checks that every member of the closed label sets is
// emitted, zeros included.
func TestClosedSets(t *testing.T) {
	s := fakeSnapshot()
	got := series(t, register(t, newTestExporter(s, Options{})))
	pairs := slices.Clone(s.Partitions)
	pairs = append(pairs, snapshot.ClusterPartition{Cluster: "west", Partition: "old"}) // named by a record only
	want := func(id string) {
		t.Helper()
		if _, ok := got[id]; !ok {
			t.Errorf("missing %s", id)
		}
	}
	for _, p := range pairs {
		for _, c := range fakeClasses {
			for _, name := range []string{"scmon_allocated_core_seconds_total", "scmon_allocated_billing_seconds_total",
				"scmon_allocated_node_seconds_total", "scmon_running_jobs", "scmon_running_cores", "scmon_pending_jobs", "scmon_pending_cores"} {
				want(sid(name, "cluster", p.Cluster, "partition", p.Partition, "class", c))
			}
		}
		for _, st := range snapshot.States {
			for _, name := range []string{"scmon_capacity_core_seconds_total", "scmon_nodes", "scmon_cores"} {
				want(sid(name, "cluster", p.Cluster, "partition", p.Partition, "state", st))
			}
		}
	}
	for _, d := range s.Devices {
		origin := fakeOrigin(d.Model)
		for _, c := range fakeClasses {
			want(sid("scmon_allocated_accelerator_seconds_total", "cluster", d.Cluster, "partition", d.Partition, "kind", d.Kind, "model", d.Model, "origin", origin, "class", c))
			for _, name := range []string{"scmon_running_accelerators", "scmon_pending_accelerators"} {
				want(sid(name, "cluster", d.Cluster, "partition", d.Partition, "kind", d.Kind, "model", d.Model, "class", c))
			}
		}
		for _, st := range snapshot.States {
			want(sid("scmon_capacity_accelerator_seconds_total", "cluster", d.Cluster, "partition", d.Partition, "kind", d.Kind, "model", d.Model, "origin", origin, "state", st))
			want(sid("scmon_accelerators", "cluster", d.Cluster, "partition", d.Partition, "kind", d.Kind, "model", d.Model, "state", st))
		}
	}
	for _, src := range s.Sources {
		for _, r := range RecordResults() {
			want(sid("scmon_records_total", "source", src.Name, "result", r))
		}
	}
	for _, c := range s.Clusters {
		want(sid("scmon_occupied_node_seconds_total", "cluster", c))
		for _, r := range snapshot.Resources {
			for _, w := range []string{"1h", "24h"} {
				for _, name := range []string{"scmon_utilization_ratio", "scmon_ai_share_ratio", "scmon_ai_share_upper_ratio"} {
					want(sid(name, "cluster", c, "resource", r, "window", w))
				}
			}
		}
	}
	// A zero that no row names.
	if v, ok := got[sid("scmon_allocated_core_seconds_total", "cluster", "west", "partition", "debug", "class", "ai_inference")]; !ok || v != 0 {
		t.Errorf("west/debug ai_inference core-seconds = %v, %v; want an emitted 0", v, ok)
	}
	// Accelerator series exist only for the partition's devices.
	if _, ok := got[sid("scmon_running_accelerators", "cluster", "east", "partition", "cpu", "kind", "gpu", "model", "A100", "class", "other")]; ok {
		t.Error("accelerator series for a partition without that device")
	}
	// The exact series count: the cross products and nothing else.
	const (
		pairsN   = 5 // 4 partitions + west/old
		devicesN = 4
		classesN = 4
		statesN  = 5
	)
	perPartition := pairsN*classesN*7 + pairsN*statesN*4 + devicesN*classesN*3 + devicesN*statesN*2
	windows := 2 * 4 * 2 * 3 // clusters x resources x windows x families
	health := 3 * (4 + len(RecordResults()) + 2 + 1)
	other := 3 + 2 + 1 + 1 + 1 + 1 + 1 // rule hits, config, snapshot time, complete time, build info, quarantined, store writable
	occupied := 2                      // one per cluster
	// The idle split: every cluster and every (cluster, kind, model) by
	// reason, with its demand counter.
	idleDevs := map[[3]string]bool{}
	for _, c := range s.Clusters {
		idleDevs[[3]string{c}] = true
	}
	for _, d := range s.Devices {
		idleDevs[[3]string{d.Cluster, d.Kind, d.Model}] = true
	}
	for d := range idleDevs {
		for _, r := range snapshot.IdleReasons {
			if d[1] == "" {
				want(sid("scmon_idle_core_seconds_total", "cluster", d[0], "reason", r))
			} else {
				want(sid("scmon_idle_accelerator_seconds_total", "cluster", d[0], "kind", d[1], "model", d[2], "reason", r))
			}
		}
	}
	idle := len(idleDevs) * (len(snapshot.IdleReasons) + 1)
	// The friction counters: every (cluster, kind, model) by AI class and
	// outcome, both families.
	for d := range idleDevs {
		if d[1] == "" {
			continue
		}
		for _, c := range []string{"ai_training", "ai_inference"} {
			for _, o := range snapshot.Outcomes {
				for _, name := range []string{"scmon_ai_jobs_ended_total", "scmon_ai_job_run_seconds_total"} {
					want(sid(name, "cluster", d[0], "kind", d[1], "model", d[2], "origin", fakeOrigin(d[2]), "class", c, "outcome", o))
				}
			}
		}
	}
	friction := (len(idleDevs) - len(s.Clusters)) * 2 * len(snapshot.Outcomes) * 2
	if n := len(got); n != perPartition+occupied+windows+health+other+idle+friction {
		t.Errorf("%d series, want %d", n, perPartition+occupied+windows+health+other+idle+friction)
	}
}

// fakeOrigin is the origin the fake snapshot gives a model.
func fakeOrigin(model string) string {
	switch model {
	case "A100":
		return "imported"
	case "Ascend 910B":
		return "domestic"
	}
	return "unknown"
}

func TestValues(t *testing.T) {
	s := fakeSnapshot()
	got := series(t, register(t, newTestExporter(s, Options{})))
	check := func(id string, want float64) {
		t.Helper()
		v, ok := got[id]
		switch {
		case !ok:
			t.Errorf("missing %s", id)
		case math.IsNaN(want) && !math.IsNaN(v), !math.IsNaN(want) && v != want:
			t.Errorf("%s = %v, want %v", id, v, want)
		}
	}
	// Accounts fold into one series when the account label is off.
	check(sid("scmon_allocated_core_seconds_total", "cluster", "east", "partition", "cpu", "class", "other"), 4.8e6)
	check(sid("scmon_allocated_accelerator_seconds_total", "cluster", "east", "partition", "gpu", "kind", "gpu", "model", "H100", "origin", "unknown", "class", "ai_training"), 86400+28800)
	check(sid("scmon_allocated_billing_seconds_total", "cluster", "east", "partition", "gpu", "class", "ai_training"), 2.88e7)
	check(sid("scmon_allocated_node_seconds_total", "cluster", "west", "partition", "old", "class", "other"), 10)
	check(sid("scmon_capacity_accelerator_seconds_total", "cluster", "west", "partition", "npu", "kind", "npu", "model", "Ascend 910B", "origin", "domestic", "state", "drained"), 2e4)
	// Friction: rows of one label set add up; a label set no row names is 0.
	check(sid("scmon_ai_jobs_ended_total", "cluster", "west", "kind", "npu", "model", "Ascend 910B", "origin", "domestic", "class", "ai_training", "outcome", "out_of_memory"), 4)
	check(sid("scmon_ai_job_run_seconds_total", "cluster", "west", "kind", "npu", "model", "Ascend 910B", "origin", "domestic", "class", "ai_training", "outcome", "out_of_memory"), 300)
	check(sid("scmon_ai_jobs_ended_total", "cluster", "east", "kind", "gpu", "model", "A100", "origin", "imported", "class", "ai_training", "outcome", "failed"), 1)
	check(sid("scmon_ai_jobs_ended_total", "cluster", "east", "kind", "gpu", "model", "A100", "origin", "imported", "class", "ai_inference", "outcome", "completed"), 0)
	check(sid("scmon_capacity_core_seconds_total", "cluster", "west", "partition", "npu", "state", "idle"), 0)
	check(sid("scmon_pending_accelerators", "cluster", "east", "partition", "gpu", "kind", "gpu", "model", "A100", "class", "ai_training"), 16)
	check(sid("scmon_accelerators", "cluster", "east", "partition", "gpu", "kind", "gpu", "model", "H100", "state", "planned"), 20)
	// Windows: the first of a duplicate wins; missing figures are NaN.
	check(sid("scmon_utilization_ratio", "cluster", "west", "resource", "cpu", "window", "1h"), 0.1)
	check(sid("scmon_ai_share_upper_ratio", "cluster", "east", "resource", "billing", "window", "1h"), 0.65)
	check(sid("scmon_ai_share_ratio", "cluster", "east", "resource", "accelerator", "window", "24h"), math.NaN())
	// Health.
	check(sid("scmon_source_up", "source", "east-sacct"), 1)
	check(sid("scmon_source_up", "source", "west-pbs"), 0)
	check(sid("scmon_source_last_success_timestamp_seconds", "source", "east-nodes"), 0)
	check(sid("scmon_source_last_success_timestamp_seconds", "source", "east-sacct"), float64(fakeTime.Unix()-30)+0.25)
	check(sid("scmon_source_lag_seconds", "source", "east-sacct"), 90)
	check(sid("scmon_records_total", "source", "west-pbs", "result", "skipped_field_count"), 1)
	check(sid("scmon_records_total", "source", "west-pbs", "result", "duplicate"), 0)
	check(sid("scmon_source_poll_duration_seconds_sum", "source", "east-sacct"), 12.5)
	check(sid("scmon_source_poll_duration_seconds_count", "source", "east-sacct"), 50)
	check(sid("scmon_source_poll_failures_total", "source", "west-pbs"), 4)
	check(sid("scmon_classifier_rule_hits_total", "rule", "hpc-names"), 0)
	check(sid("scmon_classifier_rule_hits_total", "rule", "train-torchrun"), 40)
	check(sid("scmon_config_last_reload_successful"), 1)
	check(sid("scmon_config_last_reload_success_timestamp_seconds"), float64(fakeTime.Unix()-3600)+0.25)
	check(sid("scmon_snapshot_timestamp_seconds"), float64(fakeTime.Unix())+0.25)
	check(sid("scmon_build_info", "version", "1.2.3", "revision", "0123abcd", "goversion", testGoVersion), 1)

	// Capacity states sum to the partition's total capacity.
	var total float64
	for _, st := range snapshot.States {
		total += got[sid("scmon_capacity_core_seconds_total", "cluster", "east", "partition", "gpu", "state", st)]
	}
	if total != 15e6 {
		t.Errorf("east/gpu capacity states sum to %v, want 15e6", total)
	}
}

func TestAccountLabel(t *testing.T) {
	hasAccount := func(id string) bool { return strings.Contains(id, `account=`) }
	t.Run("off by default", func(t *testing.T) {
		for id := range series(t, register(t, newTestExporter(fakeSnapshot(), Options{}))) {
			if hasAccount(id) {
				t.Errorf("account label while disabled: %s", id)
			}
		}
	})
	t.Run("on", func(t *testing.T) {
		got := series(t, register(t, newTestExporter(fakeSnapshot(), Options{AccountLabel: true})))
		for id := range got {
			name, _, _ := strings.Cut(id, "{")
			if slices.Contains(allocatedFamilies, name) != hasAccount(id) {
				t.Errorf("account label on %s: only the allocated counters take it", id)
			}
		}
		for _, tc := range []struct {
			id   string
			want float64
		}{
			{sid("scmon_allocated_core_seconds_total", "cluster", "east", "partition", "cpu", "account", "physics", "class", "other"), 3.6e6},
			{sid("scmon_allocated_core_seconds_total", "cluster", "east", "partition", "cpu", "account", "chem", "class", "other"), 1.2e6},
			// The closed set without an account: one zero series.
			{sid("scmon_allocated_core_seconds_total", "cluster", "east", "partition", "cpu", "account", "", "class", "ai_training"), 0},
			// An account's device it never used: zero.
			{sid("scmon_allocated_accelerator_seconds_total", "cluster", "east", "partition", "gpu", "account", "nlp", "kind", "gpu", "model", "A100", "origin", "imported", "class", "ai_training"), 0},
			{sid("scmon_allocated_accelerator_seconds_total", "cluster", "east", "partition", "gpu", "account", "vision", "kind", "gpu", "model", "A100", "origin", "imported", "class", "ai_training"), 28800},
		} {
			if v, ok := got[tc.id]; !ok || v != tc.want {
				t.Errorf("%s = %v (emitted %v), want %v", tc.id, v, ok, tc.want)
			}
		}
		if _, ok := got[sid("scmon_allocated_core_seconds_total", "cluster", "east", "partition", "cpu", "account", "", "class", "other")]; ok {
			t.Error("empty-account zero emitted next to real accounts")
		}
	})
	t.Run("sums agree", func(t *testing.T) {
		// Summing the account series gives the series without accounts.
		off := series(t, register(t, newTestExporter(fakeSnapshot(), Options{})))
		on := series(t, register(t, newTestExporter(fakeSnapshot(), Options{AccountLabel: true})))
		sums := map[string]float64{}
		for id, v := range on {
			if !strings.Contains(id, "account=") {
				continue
			}
			name, rest, _ := strings.Cut(strings.TrimSuffix(id, "}"), "{")
			var kept []string
			for l := range strings.SplitSeq(rest, ",") {
				if !strings.HasPrefix(l, "account=") {
					kept = append(kept, l)
				}
			}
			sums[name+"{"+strings.Join(kept, ",")+"}"] += v
		}
		for id, v := range sums {
			if off[id] != v {
				t.Errorf("%s: accounts sum to %v, without accounts %v", id, v, off[id])
			}
		}
		for id := range off {
			name, _, _ := strings.Cut(id, "{")
			if _, ok := sums[id]; slices.Contains(allocatedFamilies, name) && !ok {
				t.Errorf("%s has no account series", id)
			}
		}
	})
}

// TestRecordResults checks that the result label's closed set follows
// collector.Reasons.
func TestRecordResults(t *testing.T) {
	results := RecordResults()
	if len(results) != 2+len(collector.Reasons) {
		t.Fatalf("results %v for reasons %v", results, collector.Reasons)
	}
	for _, r := range collector.Reasons {
		if !slices.Contains(results, "skipped_"+r) {
			t.Errorf("reason %s has no result", r)
		}
	}
	// A result outside the closed set is still exported, not dropped.
	s := &snapshot.Snapshot{Sources: []snapshot.SourceHealth{{Name: "x", Records: map[string]float64{"skipped_new_reason": 3}}}}
	got := series(t, register(t, newTestExporter(s, Options{})))
	if got[sid("scmon_records_total", "source", "x", "result", "skipped_new_reason")] != 3 {
		t.Error("extra result dropped")
	}
}

func TestNilAndEmpty(t *testing.T) {
	t.Run("nil snapshot", func(t *testing.T) {
		for _, e := range []*Exporter{newTestExporter(nil, Options{}), New(nil, Options{})} {
			got := series(t, register(t, e))
			if len(got) != 1 {
				t.Errorf("nil snapshot gives %v; want build info only", got)
			}
		}
	})
	t.Run("empty snapshot", func(t *testing.T) {
		got := series(t, register(t, newTestExporter(&snapshot.Snapshot{}, Options{AccountLabel: true})))
		var names []string
		for id := range got {
			name, _, _ := strings.Cut(id, "{")
			names = append(names, name)
		}
		slices.Sort(names)
		want := []string{"scmon_build_info", "scmon_config_last_reload_success_timestamp_seconds",
			"scmon_config_last_reload_successful", "scmon_snapshot_timestamp_seconds", "scmon_store_records_quarantined", "scmon_store_writable"}
		if !slices.Equal(names, want) {
			t.Errorf("empty snapshot gives %v, want %v", names, want)
		}
	})
	t.Run("rows without closed sets", func(t *testing.T) {
		// The closed sets are derived from the data when the snapshot
		// does not name them.
		s := &snapshot.Snapshot{Allocated: []snapshot.Allocated{{Cluster: "c", Partition: "p", Class: "other", CoreSeconds: 5,
			Accel: []snapshot.AccelSeconds{{Kind: "gpu", Model: "X", Seconds: 2}}}}}
		got := series(t, register(t, newTestExporter(s, Options{})))
		if got[sid("scmon_allocated_core_seconds_total", "cluster", "c", "partition", "p", "class", "other")] != 5 {
			t.Error("row lost")
		}
		for _, st := range snapshot.States {
			if _, ok := got[sid("scmon_accelerators", "cluster", "c", "partition", "p", "kind", "gpu", "model", "X", "state", st)]; !ok {
				t.Errorf("no zero for state %s of a device named by a record only", st)
			}
		}
	})
}

func TestBuildInfo(t *testing.T) {
	e := New(func() *snapshot.Snapshot { return nil }, Options{Version: "v9", Revision: "r9"})
	got := series(t, register(t, e))
	if got[sid("scmon_build_info", "version", "v9", "revision", "r9", "goversion", runtime.Version())] != 1 {
		t.Errorf("build info: %v", got)
	}
}

// TestNoDefaultRegistry checks that neither importing the package nor
// constructing an exporter registers anything globally.
func TestNoDefaultRegistry(t *testing.T) {
	_ = New(func() *snapshot.Snapshot { return fakeSnapshot() }, Options{})
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "scmon_") {
			t.Errorf("%s in the default registry", mf.GetName())
		}
	}
}

// TestSnapshotUntouched checks that a scrape only reads the snapshot.
func TestSnapshotUntouched(t *testing.T) {
	for _, opts := range []Options{{}, {AccountLabel: true}} {
		s := fakeSnapshot()
		series(t, register(t, newTestExporter(s, opts)))
		if !reflect.DeepEqual(s, fakeSnapshot()) {
			t.Errorf("account=%v: the scrape modified the snapshot", opts.AccountLabel)
		}
	}
}

// TestInvalidLabelValues checks that a label value that is not UTF-8 is
// repaired rather than failing the scrape.
func TestInvalidLabelValues(t *testing.T) {
	s := &snapshot.Snapshot{
		Partitions: []snapshot.ClusterPartition{{Cluster: "c", Partition: "bad\xffname"}},
		Sources:    []snapshot.SourceHealth{{Name: "src\xfe"}},
	}
	reg := register(t, newTestExporter(s, Options{}))
	got := series(t, reg)
	if _, ok := got[sid("scmon_running_jobs", "cluster", "c", "partition", "bad\uFFFDname", "class", "other")]; !ok {
		t.Errorf("repaired partition missing: %v", slices.Sorted(func(yield func(string) bool) {
			for id := range got {
				if !yield(id) {
					return
				}
			}
		}))
	}
	if _, ok := got[sid("scmon_source_poll_duration_seconds_count", "source", "src\uFFFD")]; !ok {
		t.Error("repaired source missing from the summary")
	}
	if !bytes.Contains(exposition(t, reg), []byte("bad\uFFFDname")) {
		t.Error("exposition lacks the repaired value")
	}
}

// TestEmissionSorted checks that Collect sends each family in the order
// the registry sorts it (label values, labels in name order), which keeps
// the registry's sort of a large scrape nearly linear. Only the cost
// depends on it, not the output.
func TestEmissionSorted(t *testing.T) {
	for _, opts := range []Options{{}, {AccountLabel: true}} {
		ch := make(chan prometheus.Metric)
		go func() {
			newTestExporter(sizedSnapshot(2, 3, 3), opts).Collect(ch)
			close(ch)
		}()
		last := map[string]string{}
		for m := range ch {
			var pb dto.Metric
			if err := m.Write(&pb); err != nil {
				t.Fatal(err)
			}
			var vals []string
			for _, l := range pb.GetLabel() { // sorted by name by client_golang
				vals = append(vals, l.GetValue())
			}
			cur := strings.Join(vals, "\xff")
			name := m.Desc().String()
			if strings.Contains(name, "{source") { // a handful of series per source
				continue
			}
			if prev, ok := last[name]; ok && cur <= prev {
				t.Errorf("account=%v: %s: %q after %q", opts.AccountLabel, name, vals, strings.Split(prev, "\xff"))
			}
			last[name] = cur
		}
	}
}
