package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
)

// The end-to-end test's timing. scmon's sample center advances every 15 s;
// the counters move only then. Prometheus (from scripts/testenv) scrapes
// and evaluates rules every second.
const (
	// e2eSnapshots is how many new snapshots (sample polls) Prometheus must
	// have scraped before the queries run: two polls after the first
	// scrape give every counter two increments inside every window.
	e2eSnapshots = 2
	// e2eWait bounds the wait for them.
	e2eWait = 90 * time.Second
	// e2eStep is the step of range queries: small enough to give several
	// points in the test's short history.
	e2eStep = 5 * time.Second
	// scrapeInterval is the scrape interval of the test Prometheus, the
	// "scrape interval" Grafana would be told in the data source settings.
	scrapeInterval = time.Second
)

// TestEndToEndAgainstPrometheus is the proof against the real thing: it
// builds scmon and serves the built-in sample center (with the account
// label on, so that the account panels have data), has a real Prometheus
// scrape it with the committed rules loaded, then runs every dashboard
// query and every rule expression through Prometheus's HTTP API. Each must
// parse and return data, and each metric name it reads must be one that
// the scrape really holds (or a recorded series that exists).
//
// Substitutions. The rule files are loaded as committed except for their
// groups' evaluation intervals, set to 1 s: the long windows' groups run
// every few minutes and would not run once in the test's life. Windows
// longer than the test's history (increase(...[30d])) are kept: a range
// covers the samples there are. Dashboard variables take Grafana's values
// for this setup: $__interval is the panel's minimum interval or the
// scrape interval, $__rate_interval is max($__interval + scrape interval,
// 4 x scrape interval) as Grafana computes it, $__range is the time since
// Prometheus started, and $cluster, $partition, $instance and $source are
// All (.*).
//
// An alert's expression is empty while the alert does not fire; it must
// run without error, and without its thresholds (withoutThresholds) it
// must return data, which proves every metric and join in it matches.
func TestEndToEndAgainstPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	// Most of its time is spent waiting for the sample's polls: let the
	// other tests run meanwhile. It shares nothing with them.
	t.Parallel()
	for _, tool := range []string{"promtool", "prometheus", "bash"} {
		testutil.RequireTool(t, tool)
	}
	testutil.RequireRoot(t) // scripts/testenv/prometheus-up.sh runs as root
	begin := time.Now()

	// scmon, built from this checkout.
	work := t.TempDir()
	bin := testutil.ScmonBinary(t)
	cfg := filepath.Join(work, "scmon.yml")
	if err := os.WriteFile(cfg, []byte("sample: true\nmetrics:\n  account_label: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scmonAddr := testutil.FreeAddr(t)
	startScmon(t, bin, cfg, scmonAddr, filepath.Join(work, "scmon.log"))
	waitFor(t, 60*time.Second, "scmon's first snapshot", func() bool {
		body, err := httpGet("http://" + scmonAddr + "/metrics")
		return err == nil && strings.Contains(body, "\nscmon_snapshot_timestamp_seconds ")
	})

	// Prometheus, in its own state directory and port, scraping scmon with
	// the rules evaluated fast.
	rules := fastRuleCopies(t, work)
	promURL := testutil.StartPrometheus(t, scmonAddr, rules)
	promStart := time.Now()
	api := &promAPI{t: t, base: promURL}

	waitFor(t, e2eWait, fmt.Sprintf("%d new snapshots scraped", e2eSnapshots), func() bool {
		v, ok := api.scalar(fmt.Sprintf("changes(%s[10m])", mSnapshotTime))
		return ok && v >= e2eSnapshots
	})
	ready := time.Now()
	t.Logf("setup %.1fs; Prometheus had %d snapshots after %.1fs", ready.Sub(begin).Seconds(), e2eSnapshots, ready.Sub(promStart).Seconds())

	// The names the scrape really holds.
	scraped := map[string]bool{}
	for _, s := range api.query(`count by (__name__) ({__name__=~"scmon_.+"})`, ready).series {
		scraped[s.Metric["__name__"]] = true
	}
	rec := recordedNames(t)
	checkNames := func(where, expr string) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, n := range names {
			if !scraped[n] && !rec[n] {
				t.Errorf("%s reads %s, which scmon did not emit in the scrape", where, n)
			}
		}
	}

	// Every dashboard query.
	rangeSecs := int(math.Ceil(time.Since(promStart).Seconds()))
	var nQueries, nRange, nInstant, nNaN int
	for _, q := range allQueries(t) {
		vars := grafanaVars(t, q.panel.Interval, rangeSecs)
		expr, err := substitute(q.target.Expr, vars)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		checkNames(q.where, expr)
		nQueries++
		var res promResult
		if q.target.Instant {
			nInstant++
			res = api.query(expr, time.Now())
		} else {
			nRange++
			res = api.queryRange(expr, promStart, time.Now(), e2eStep)
		}
		if res.err != "" {
			t.Errorf("%s: %s\n%s", q.where, res.err, expr)
			continue
		}
		if len(res.series) == 0 {
			t.Errorf("%s returned no data:\n%s", q.where, expr)
			continue
		}
		if res.allNaN() {
			nNaN++
			t.Logf("%s: only NaN (0/0) in %d series", q.where, len(res.series))
		}
	}

	// Every rule expression: recording rules return data, and so do their
	// recorded series; alerts run, and return data without thresholds.
	var nRecording, nAlerting int
	for _, f := range ruleFiles {
		for _, g := range loadRules(t)[f] {
			for _, r := range g.Rules {
				where := f + ": " + r.Record + r.Alert
				checkNames(where, r.Expr)
				res := api.query(r.Expr, time.Now())
				if res.err != "" {
					t.Errorf("%s: %s", where, res.err)
					continue
				}
				if r.Record != "" {
					nRecording++
					if len(res.series) == 0 {
						t.Errorf("%s returned no data:\n%s", where, r.Expr)
					}
					continue
				}
				nAlerting++
				if len(res.series) > 0 {
					t.Logf("%s fires on the sample center (%d series)", where, len(res.series))
				}
				bare, err := withoutThresholds(r.Expr)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				if res := api.query(bare, time.Now()); res.err != "" || len(res.series) == 0 {
					t.Errorf("%s without thresholds returned no data (%s):\n%s", where, res.err, bare)
				}
			}
		}
	}
	for name := range rec {
		if res := api.query(name, time.Now()); len(res.series) == 0 {
			t.Errorf("recorded series %s does not exist in Prometheus (%s)", name, res.err)
		}
	}
	checkRuleHealth(t, api)

	// A counter figure next to scmon's own: the CPU utilization from the
	// counters over the test's life must be a utilization.
	if v, ok := api.scalar(`sum(` + recUtilization(ruleWindows[0]) + `{resource="cpu"})`); !ok || v <= 0 || v > 1.05 {
		t.Errorf("CPU utilization from the counters: %v (ok %v), want a ratio in (0, 1]", v, ok)
	} else {
		g, _ := api.scalar(`sum(` + mUtilization + `{resource="cpu",window="1h"})`)
		t.Logf("CPU utilization over the test's %ds from the counters %.3f; scmon's trailing-hour gauge %.3f", rangeSecs, v, g)
	}
	verdict := "all returning data"
	if t.Failed() {
		verdict = "NOT all returning data (see the errors above)"
	}
	t.Logf("executed %d dashboard queries (%d range, %d instant; %d all NaN) and %d rule expressions (%d recording, %d alerting), %s, in %.1fs",
		nQueries, nRange, nInstant, nNaN, nRecording+nAlerting, nRecording, nAlerting, verdict, time.Since(ready).Seconds())
}

// grafanaVars returns the variables of a panel the way Grafana would set
// them against the test Prometheus.
func grafanaVars(t *testing.T, minInterval string, rangeSecs int) map[string]string {
	t.Helper()
	interval := scrapeInterval
	if minInterval != "" {
		d, err := time.ParseDuration(minInterval)
		if err != nil {
			t.Fatalf("panel interval %q: %v", minInterval, err)
		}
		interval = max(interval, d)
	}
	rateInterval := max(interval+scrapeInterval, 4*scrapeInterval)
	vars := map[string]string{
		"__interval":      promDuration(interval),
		"__rate_interval": promDuration(rateInterval),
		"__range":         strconv.Itoa(rangeSecs) + "s",
	}
	for _, v := range []string{"cluster", "partition", "instance", "source"} {
		vars[v] = ".*"
	}
	return vars
}

// promDuration renders d in whole seconds, as PromQL accepts it.
func promDuration(d time.Duration) string {
	return strconv.Itoa(int(d.Round(time.Second).Seconds())) + "s"
}

// fastRuleCopies writes copies of the committed rule files with every
// group's interval set to 1 s and returns their paths.
func fastRuleCopies(t *testing.T, dir string) []string {
	t.Helper()
	interval := regexp.MustCompile(`(?m)^(\s+interval: ).*$`)
	var out []string
	for _, f := range ruleFiles {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, interval.ReplaceAll(b, []byte("${1}1s")), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// startScmon starts scmon serve and stops it (SIGTERM, then SIGKILL) when
// the test ends.
func startScmon(t *testing.T, bin, cfg, addr, logPath string) {
	t.Helper()
	testutil.StartProcess(t, logPath, bin, "serve", "--config.file", cfg, "--web.listen-address", addr)
}

// waitFor polls cond every half second until it holds or the timeout
// passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// httpClient bounds every request of the test.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// httpGet returns the body of a successful GET.
func httpGet(u string) (string, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(b), nil
}

// promAPI queries Prometheus's HTTP API.
type promAPI struct {
	t    *testing.T
	base string
}

// promSeries is one series of a result: its labels and its values (one
// for an instant vector, several for a matrix).
type promSeries struct {
	Metric map[string]string
	Values []float64
}

// promResult is a query's outcome: the series, or the error Prometheus
// returned (a parse or evaluation error, in its words).
type promResult struct {
	series []promSeries
	err    string
}

// allNaN reports whether every value of every series is NaN.
func (r promResult) allNaN() bool {
	for _, s := range r.series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				return false
			}
		}
	}
	return true
}

// query runs an instant query at ts.
func (a *promAPI) query(expr string, ts time.Time) promResult {
	return a.get("/api/v1/query", url.Values{"query": {expr}, "time": {unixString(ts)}})
}

// queryRange runs a range query.
func (a *promAPI) queryRange(expr string, start, end time.Time, step time.Duration) promResult {
	return a.get("/api/v1/query_range", url.Values{
		"query": {expr}, "start": {unixString(start)}, "end": {unixString(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
}

// scalar runs an instant query that returns one series and returns its
// value.
func (a *promAPI) scalar(expr string) (float64, bool) {
	r := a.query(expr, time.Now())
	if r.err != "" || len(r.series) != 1 || len(r.series[0].Values) != 1 {
		return 0, false
	}
	return r.series[0].Values[0], true
}

// unixString renders a time as Prometheus's API takes it.
func unixString(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

// get calls the API and decodes a vector, a matrix or a scalar.
func (a *promAPI) get(path string, params url.Values) promResult {
	a.t.Helper()
	resp, err := httpClient.Get(a.base + path + "?" + params.Encode())
	if err != nil {
		return promResult{err: err.Error()}
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return promResult{err: fmt.Sprintf("%s: %v", resp.Status, err)}
	}
	if body.Status != "success" {
		return promResult{err: body.ErrorType + ": " + body.Error}
	}
	var out promResult
	switch body.Data.ResultType {
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return promResult{err: err.Error()}
		}
		for _, s := range v {
			out.series = append(out.series, promSeries{Metric: s.Metric, Values: []float64{parseValue(s.Value[1])}})
		}
	case "matrix":
		var m []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		if err := json.Unmarshal(body.Data.Result, &m); err != nil {
			return promResult{err: err.Error()}
		}
		for _, s := range m {
			ps := promSeries{Metric: s.Metric}
			for _, p := range s.Values {
				ps.Values = append(ps.Values, parseValue(p[1]))
			}
			out.series = append(out.series, ps)
		}
	case "scalar":
		var p [2]any
		if err := json.Unmarshal(body.Data.Result, &p); err != nil {
			return promResult{err: err.Error()}
		}
		out.series = []promSeries{{Values: []float64{parseValue(p[1])}}}
	default:
		return promResult{err: "unexpected result type " + body.Data.ResultType}
	}
	return out
}

// parseValue parses a sample value as the API writes it (a string).
func parseValue(v any) float64 {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// checkRuleHealth requires that Prometheus evaluated every loaded rule
// without error.
func checkRuleHealth(t *testing.T, a *promAPI) {
	t.Helper()
	body, err := httpGet(a.base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
					State     string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &rules); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s/%s: health %q %s", g.Name, r.Name, r.Health, r.LastError)
			}
		}
	}
	want := 0
	for _, groups := range loadRules(t) {
		for _, g := range groups {
			want += len(g.Rules)
		}
	}
	if n != want {
		t.Errorf("Prometheus loaded %d rules, the files hold %d", n, want)
	}
}
