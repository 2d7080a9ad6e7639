package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"

	"github.com/scmon/scmon/internal/testutil"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// mComplete is the instant up to which a daemon's counters are complete.
const mComplete = "scmon_complete_timestamp_seconds"

// TestFederationThroughVictoriaMetrics is the many-centers setup of
// deploy/federation run for real: two centers, each with its own scmon
// serve scraped by its own Prometheus (the Debian package's), both
// Prometheus servers remote-writing into one VictoriaMetrics (the Debian
// package's single node), everything on free loopback ports in temporary
// directories and stopped at the end.
//
//   - north is the built-in sample center, moved to end when it starts; its
//     counters grow every 15 s with the jobs still running.
//   - south is a generated center (federation_center_test.go) whose
//     scheduler host writes sacct dumps that scmon imports: a first dump
//     when the test starts, a second one later, added to the configuration
//     and picked up with a reload (POST /-/reload), as a cron job on the
//     scheduler host would do.
//
// Each Prometheus runs deploy/federation/prometheus-center.yml with the
// test's addresses and 1 s intervals: it evaluates the committed rules
// (group intervals cut to 1 s, as in TestEndToEndAgainstPrometheus) and
// adds the external label center, so the recorded series reach the
// central store too. Against
// VictoriaMetrics' Prometheus-compatible API the test then
//
//   - runs every dashboard query and every rule expression, with Grafana's
//     variables as in TestEndToEndAgainstPrometheus, and requires data from
//     each, and every metric name to be one the centers really sent;
//   - takes a range [a, b] of its own life, in which north's counters grew
//     and south's stepped from its first dump to its second, and requires
//     the sums across both clusters of every allocated and capacity counter
//     over it, in both exact forms (x - x offset R, and increase(x[R]),
//     which VictoriaMetrics computes without extrapolation), to equal the
//     sums of the two centers' scmon report for the spans their counters
//     covered: the counters at an instant hold everything up to the
//     centers' complete time (the snapshot time minus the source lag, whole
//     seconds), which is read from the same samples.
func TestFederationThroughVictoriaMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("federation test skipped in -short mode")
	}
	t.Parallel()
	promBin := testutil.RequireTool(t, "prometheus")
	begin := time.Now()
	work := t.TempDir()

	bin := testutil.ScmonBinary(t)
	vm := testutil.StartVictoriaMetrics(t, filepath.Join(work, "vm"))

	// The two centers.
	southDir := filepath.Join(work, "south")
	if err := os.MkdirAll(southDir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Truncate(time.Second).Add(-time.Second)
	jobs := southJobs(base, 72*time.Hour, time.Hour)
	inv := filepath.Join(southDir, "inventory.yaml")
	writeFile(t, inv, southInventory)
	dumps := []string{filepath.Join(southDir, "sacct-1.psv")}
	writeSouthDump(t, dumps[0], jobs, base)
	southCfg := filepath.Join(southDir, "scmon.yml")
	writeSouthConfig(t, southCfg, southDir, inv, dumps)
	northCfg := filepath.Join(work, "north.yml")
	writeFile(t, northCfg, "sample: true\nmetrics:\n  account_label: true\n")

	addrs := map[string]string{"north": testutil.FreeAddr(t), "south": testutil.FreeAddr(t)}
	startScmon(t, bin, northCfg, addrs["north"], filepath.Join(work, "north.log"))
	startScmon(t, bin, southCfg, addrs["south"], filepath.Join(work, "south.log"))
	for center, addr := range addrs {
		waitFor(t, 60*time.Second, center+"'s first snapshot", func() bool {
			body, err := httpGet("http://" + addr + "/metrics")
			return err == nil && strings.Contains(body, "\nscmon_allocated_core_seconds_total{")
		})
	}

	rules := fastRuleCopies(t, work)
	promStart := time.Now()
	for _, center := range []string{"north", "south"} {
		startCenterPrometheus(t, promBin, filepath.Join(work, "prom-"+center), center, addrs[center], vm, rules)
	}
	api := &promAPI{t: t, base: vm}
	gauge := func(expr string, at time.Time) (float64, bool) {
		r := api.query(expr, at)
		if r.err != "" || len(r.series) != 1 {
			return 0, false
		}
		return r.series[0].Values[0], true
	}
	// complete returns a center's complete time at an instant, read from
	// the scmon_complete_timestamp_seconds samples VictoriaMetrics holds
	// then, in whole seconds (the
	// counters count up to it truncated to the second). ok is false while
	// the center has no samples, or when float rounding could put the
	// value on either side of a second.
	complete := func(center string, at time.Time) (int64, bool) {
		c, ok := gauge(fmt.Sprintf(`%s{center=%q}`, mComplete, center), at)
		if !ok {
			return 0, false
		}
		if f := c - math.Floor(c); f < 1e-4 || f > 1-1e-4 {
			// Whole seconds (south's dump times) are whole up to float
			// rounding; north's complete times are not.
			if math.Abs(c-math.Round(c)) < 1e-4 && center == "south" {
				return int64(math.Round(c)), true
			}
			return 0, false
		}
		return int64(math.Floor(c)), true
	}

	// a: the first whole second at which both centers' counters are in the
	// central store.
	var a time.Time
	var northA, southA int64
	waitFor(t, 90*time.Second, "both centers' counters in VictoriaMetrics", func() bool {
		vmFlush(t, vm)
		at := time.Now().Add(-2 * time.Second).Truncate(time.Second)
		r := api.query(`count by (cluster) (`+mAllocCore+`)`, at)
		if len(r.series) != 2 {
			return false
		}
		var ok1, ok2 bool
		northA, ok1 = complete("north", at)
		southA, ok2 = complete("south", at)
		a = at
		return ok1 && ok2
	})
	if southA != base.Unix() {
		t.Fatalf("south's counters at a are complete up to %s, want its first dump's time %s", time.Unix(southA, 0).UTC(), base.UTC())
	}

	// The scheduler host writes a second dump, at least 8 s after the
	// first (the hand-placed jobs ended and started between the two), and
	// scmon is told to import it.
	time.Sleep(time.Until(base.Add(9 * time.Second)))
	asOf := time.Now().Truncate(time.Second).Add(-time.Second)
	dumps = append(dumps, filepath.Join(southDir, "sacct-2.psv"))
	writeSouthDump(t, dumps[1], jobs, asOf)
	writeSouthConfig(t, southCfg, southDir, inv, dumps)
	resp, err := http.Post("http://"+addrs["south"]+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /-/reload: %s", resp.Status)
	}

	// b: a whole second at which south's counters hold the second dump and
	// north has published e2eSnapshots more snapshots since a.
	var b time.Time
	var northB, southB int64
	waitFor(t, 90*time.Second, "the second dump and new north snapshots in VictoriaMetrics", func() bool {
		vmFlush(t, vm)
		at := time.Now().Add(-2 * time.Second).Truncate(time.Second)
		var ok1, ok2 bool
		northB, ok1 = complete("north", at)
		southB, ok2 = complete("south", at)
		if !ok1 || !ok2 || southB != asOf.Unix() {
			return false
		}
		n, ok := gauge(fmt.Sprintf(`changes(%s{center="north"}[%ds])`, mSnapshotTime, int(at.Sub(a).Seconds())), at)
		b = at
		return ok && n >= e2eSnapshots
	})
	ready := time.Now()
	t.Logf("setup %.1fs; range a=%s b=%s (%s): north complete %s to %s, south %s to %s",
		ready.Sub(begin).Seconds(), a.UTC().Format(time.TimeOnly), b.UTC().Format(time.TimeOnly), b.Sub(a),
		time.Unix(northA, 0).UTC().Format(time.TimeOnly), time.Unix(northB, 0).UTC().Format(time.TimeOnly),
		time.Unix(southA, 0).UTC().Format(time.TimeOnly), time.Unix(southB, 0).UTC().Format(time.TimeOnly))

	runDashboardQueriesOn(t, api, promStart, b)

	// a and b were chosen from what the store held then; a sample stamped
	// before either may have arrived since (remote write lags under load).
	// Read the complete times again now that later samples are in.
	waitFor(t, 60*time.Second, "samples 5 s after b from both centers", func() bool {
		vmFlush(t, vm)
		r := api.query(fmt.Sprintf(`count by (center) (timestamp(%s) > %d)`, mSnapshotTime, b.Unix()+5), time.Now())
		return len(r.series) == 2
	})
	for _, x := range []struct {
		center string
		at     time.Time
		c      *int64
	}{{"north", a, &northA}, {"south", a, &southA}, {"north", b, &northB}, {"south", b, &southB}} {
		c, ok := complete(x.center, x.at)
		if !ok {
			t.Fatalf("%s's complete time at %s is not readable any more", x.center, x.at)
		}
		*x.c = c
	}
	if southA != base.Unix() || southB != asOf.Unix() {
		t.Fatalf("south's complete times at a and b are %d and %d, want its dumps' %d and %d", southA, southB, base.Unix(), asOf.Unix())
	}

	// The sums. north's reports run on the built-in sample, unshifted: the
	// daemon moved it by a whole number of seconds, which its last-record
	// gauge gives away against the log's own newest time.
	lastRecord, ok := gauge(fmt.Sprintf(`%s{center="north"}`, mLastRecord), b)
	if !ok {
		t.Fatal("no last-record time from north")
	}
	shift := time.Duration(int64(math.Round(lastRecord))-sampleNewest(t).Unix()) * time.Second
	reports := map[string]apiv1.Report{
		"north": centerReport(t, bin, nil, time.Unix(northA, 0).Add(-shift), time.Unix(northB, 0).Add(-shift)),
		"south": centerReport(t, bin, []string{"--input", "slurm-sacct:" + dumps[1], "--capacity", "inventory:" + inv, "--timezone", "UTC"},
			time.Unix(southA, 0), time.Unix(southB, 0)),
	}
	checkFederatedSums(t, api, b, b.Sub(a), reports)
	t.Logf("federation test done in %.1fs", time.Since(begin).Seconds())
}

// centerReport runs scmon report over [from, to) with the given inputs.
func centerReport(t *testing.T, bin string, inputs []string, from, to time.Time) apiv1.Report {
	t.Helper()
	args := append([]string{"report", "-q", "-o", "json", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}, inputs...)
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scmon %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var r apiv1.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkFederatedSums compares, at b over the range R before it, the sums
// across both clusters (and each cluster alone) of every counter family
// with the reports' figures.
func checkFederatedSums(t *testing.T, api *promAPI, b time.Time, rng time.Duration, reports map[string]apiv1.Report) {
	t.Helper()
	r := fmt.Sprintf("%ds", int64(rng/time.Second))
	pick := map[string]func(apiv1.Report) float64{
		mAllocCore:                           func(f apiv1.Report) float64 { return f.CPU.AllocatedHours },
		"scmon_allocated_node_seconds_total": func(f apiv1.Report) float64 { return f.Nodes.AllocatedHours },
		mAllocBilling:                        func(f apiv1.Report) float64 { return f.Billing.AllocatedHours },
		mAllocAccel:                          func(f apiv1.Report) float64 { return f.Accelerator.AllocatedHours },
		mCapCore:                             func(f apiv1.Report) float64 { return f.CPU.CapacityHours },
		mCapAccel:                            func(f apiv1.Report) float64 { return f.Accelerator.CapacityHours },
		mCapBilling:                          func(f apiv1.Report) float64 { return f.Billing.CapacityHours },
	}
	same := func(seconds, hours float64) bool {
		return math.Abs(seconds/3600-hours) <= 1e-9*math.Max(1, math.Abs(hours))
	}
	nonzero := 0
	for name, get := range pick {
		want := get(reports["north"]) + get(reports["south"])
		if want > 0 {
			nonzero++
		}
		forms := map[string]string{
			"offset":   fmt.Sprintf("sum(%s) - sum(%s offset %s)", name, name, r),
			"increase": fmt.Sprintf("sum(increase(%s[%s]))", name, r),
		}
		for form, expr := range forms {
			res := api.query(expr, b)
			if res.err != "" || len(res.series) != 1 {
				t.Errorf("%s: %s (%d series)", expr, res.err, len(res.series))
				continue
			}
			if v := res.series[0].Values[0]; !same(v, want) {
				t.Errorf("%s, both clusters, %s form: %v s = %.9f h; reports %.9f h (north %.9f, south %.9f)",
					name, form, v, v/3600, want, get(reports["north"]), get(reports["south"]))
			}
		}
		// Each cluster alone, so that a failure says whose it is.
		res := api.query(fmt.Sprintf("sum by (center) (%s) - sum by (center) (%s offset %s)", name, name, r), b)
		for _, s := range res.series {
			c := s.Metric["center"]
			if w := get(reports[c]); !same(s.Values[0], w) {
				t.Errorf("%s, %s alone: %v s, report %.9f h", name, c, s.Values[0], w)
			}
		}
		if len(res.series) != 2 {
			t.Errorf("%s: %d centers in the offset form, want 2", name, len(res.series))
		}
	}
	// Accelerators by model: A100, Ascend 910B and K100 from north, H100
	// from south.
	res := api.query(fmt.Sprintf("sum by (model) (increase(%s[%s]))", mAllocAccel, r), b)
	models := 0
	for _, s := range res.series {
		want := reports["north"].Accelerator.ByModel[s.Metric["model"]].AllocatedHours + reports["south"].Accelerator.ByModel[s.Metric["model"]].AllocatedHours
		if !same(s.Values[0], want) {
			t.Errorf("accelerators %s: %v s, reports %.9f h", s.Metric["model"], s.Values[0], want)
		}
		models++
	}
	if want := len(reports["north"].Accelerator.ByModel) + len(reports["south"].Accelerator.ByModel); models != want {
		t.Errorf("%d accelerator models in VictoriaMetrics, the reports name %d", models, want)
	}
	if nonzero != len(pick) || reports["south"].CPU.AllocatedHours <= 0 || reports["north"].CPU.AllocatedHours <= 0 {
		t.Errorf("some figure of the range is zero: the comparison proves little (north %+v, south %+v)", reports["north"], reports["south"])
	}
	t.Logf("over %s: allocated core-hours north %.4f + south %.4f, capacity %.1f + %.1f: as both reports, summed in VictoriaMetrics",
		rng, reports["north"].CPU.AllocatedHours, reports["south"].CPU.AllocatedHours, reports["north"].CPU.CapacityHours, reports["south"].CPU.CapacityHours)
}

// runDashboardQueriesOn runs every dashboard query (range queries from
// start to end) and every rule expression at end against api, as
// TestEndToEndAgainstPrometheus does against Prometheus: each must return
// data, each metric name it reads must be in the store, and alerts must
// return data once their thresholds are removed.
func runDashboardQueriesOn(t *testing.T, api *promAPI, start, end time.Time) {
	t.Helper()
	began := time.Now()
	stored := map[string]bool{}
	for _, s := range api.query(`count by (__name__) ({__name__=~"scmon_.+|cluster.*:scmon_.+"})`, end).series {
		stored[s.Metric["__name__"]] = true
	}
	checkNames := func(where, expr string) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, n := range names {
			if !stored[n] {
				t.Errorf("%s reads %s, which is not in VictoriaMetrics", where, n)
			}
		}
	}
	rangeSecs := int(math.Ceil(end.Sub(start).Seconds()))
	var nQueries, nNaN int
	for _, q := range allQueries(t) {
		expr, err := substitute(q.target.Expr, grafanaVars(t, q.panel.Interval, rangeSecs))
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		checkNames(q.where, expr)
		nQueries++
		var res promResult
		if q.target.Instant {
			res = api.query(expr, end)
		} else {
			res = api.queryRange(expr, start, end, e2eStep)
		}
		switch {
		case res.err != "":
			t.Errorf("%s: %s\n%s", q.where, res.err, expr)
		case len(res.series) == 0:
			t.Errorf("%s returned no data from VictoriaMetrics:\n%s", q.where, expr)
		case res.allNaN():
			nNaN++
			t.Logf("%s: only NaN (0/0) in %d series", q.where, len(res.series))
		}
	}
	var nRecording, nAlerting int
	for _, f := range ruleFiles {
		for _, g := range loadRules(t)[f] {
			for _, r := range g.Rules {
				where := f + ": " + r.Record + r.Alert
				checkNames(where, r.Expr)
				res := api.query(r.Expr, end)
				if res.err != "" {
					t.Errorf("%s: %s", where, res.err)
					continue
				}
				if r.Record != "" {
					nRecording++
					if len(res.series) == 0 {
						t.Errorf("%s returned no data from VictoriaMetrics:\n%s", where, r.Expr)
					}
					continue
				}
				nAlerting++
				bare, err := withoutThresholds(r.Expr)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				if res := api.query(bare, end); res.err != "" || len(res.series) == 0 {
					t.Errorf("%s without thresholds returned no data from VictoriaMetrics (%s):\n%s", where, res.err, bare)
				}
			}
		}
	}
	for name := range recordedNames(t) {
		if res := api.query(name, end); len(res.series) < 2 {
			t.Errorf("recorded series %s: %d series in VictoriaMetrics, want one per center at least (%s)", name, len(res.series), res.err)
		}
	}
	t.Logf("VictoriaMetrics: executed %d dashboard queries (%d all NaN) and %d rule expressions (%d recording, %d alerting) in %.1fs",
		nQueries, nNaN, nRecording+nAlerting, nRecording, nAlerting, time.Since(began).Seconds())
}

// sampleNewest is the latest time the built-in sample's stored records
// name (submit, start or end; pending jobs are not stored), the time the
// daemon's last-record gauge reports once moved.
func sampleNewest(t *testing.T) time.Time {
	t.Helper()
	zr, err := collector.MaybeGzip(strings.NewReader(string(seeds.SacctLog())))
	if err != nil {
		t.Fatal(err)
	}
	r := collector.NewSacctReader(zr, collector.Options{Name: "sample", Location: seeds.Location(), Cluster: seeds.ClusterName})
	var newest time.Time
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.State == job.StatePending {
			continue
		}
		for _, x := range []time.Time{rec.Submit, rec.Start, rec.End} {
			if x.After(newest) {
				newest = x
			}
		}
	}
	return newest
}

// writeSouthConfig writes south's scmon configuration: its inventory, its
// dumps, a SQLite store in dir.
func writeSouthConfig(t *testing.T, path, dir, inv string, dumps []string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "timezone: UTC\ndata_dir: %s\ncapacity: inventory:%s\nmetrics:\n  account_label: true\nsources:\n  - name: dumps\n    kind: dump\n    format: slurm-sacct\n    paths:\n", dir, inv)
	for _, d := range dumps {
		fmt.Fprintf(&b, "      - %s\n", d)
	}
	writeFile(t, path, b.String())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// federationExample is the per-center Prometheus configuration of the
// deploy/federation example, which the test runs.
const federationExample = "../deploy/federation/prometheus-center.yml"

// centerPrometheusConfig returns the example's per-center configuration
// as the test runs it: the center's name in the external label (which
// Prometheus would take from SCMON_CENTER), the test's addresses and rule
// files, and 1 s intervals; everything else as the example has it.
func centerPrometheusConfig(t *testing.T, center, target, central string, rules []string) []byte {
	t.Helper()
	raw, err := os.ReadFile(federationExample)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global struct {
			ScrapeInterval     string            `yaml:"scrape_interval"`
			ScrapeTimeout      string            `yaml:"scrape_timeout,omitempty"`
			EvaluationInterval string            `yaml:"evaluation_interval"`
			ExternalLabels     map[string]string `yaml:"external_labels"`
		} `yaml:"global"`
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
		RemoteWrite []struct {
			URL         string         `yaml:"url"`
			QueueConfig map[string]any `yaml:"queue_config"`
		} `yaml:"remote_write"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%s: %v", federationExample, err)
	}
	if cfg.Global.ExternalLabels["center"] != "${SCMON_CENTER}" || len(cfg.ScrapeConfigs) != 1 || len(cfg.RemoteWrite) != 1 ||
		len(cfg.ScrapeConfigs[0].StaticConfigs) != 1 || !strings.HasSuffix(cfg.RemoteWrite[0].URL, "/api/v1/write") {
		t.Fatalf("%s: not the shape the test runs (one scrape of scmon, one remote write, center=${SCMON_CENTER})", federationExample)
	}
	cfg.Global.ScrapeInterval, cfg.Global.ScrapeTimeout, cfg.Global.EvaluationInterval = "1s", "1s", "1s"
	cfg.Global.ExternalLabels["center"] = center
	cfg.RuleFiles = rules
	cfg.ScrapeConfigs[0].StaticConfigs[0].Targets = []string{target}
	cfg.RemoteWrite[0].URL = central + "/api/v1/write"
	cfg.RemoteWrite[0].QueueConfig["batch_send_deadline"] = "1s"
	out, err := yaml.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startCenterPrometheus starts a center's Prometheus with the example's
// configuration (centerPrometheusConfig): it scrapes the center's scmon,
// evaluates the rules, labels everything it sends center=NAME and
// remote-writes to the central store.
func startCenterPrometheus(t *testing.T, bin, dir, center, target, central string, rules []string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	path := filepath.Join(dir, "prometheus.yml")
	writeFile(t, path, string(centerPrometheusConfig(t, center, target, central, rules)))
	testutil.StartProcess(t, filepath.Join(dir, "prometheus.log"), bin, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	waitFor(t, 60*time.Second, center+"'s Prometheus ready", func() bool {
		_, err := httpGet("http://" + addr + "/-/ready")
		return err == nil
	})
	return "http://" + addr
}

// vmFlush makes what VictoriaMetrics received searchable now.
func vmFlush(t *testing.T, base string) {
	t.Helper()
	if _, err := httpGet(base + "/internal/force_flush"); err != nil {
		t.Fatal(err)
	}
}
