package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// call serves one request and returns the response with its body read.
func call(t *testing.T, h http.Handler, method, target string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// jsonError decodes an API error body.
func jsonError(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error (%v)", body, err)
	}
	return e.Error
}

func TestEndpoints(t *testing.T) {
	type check func(t *testing.T, f *fakeBackend, res *http.Response, body string)
	contains := func(want ...string) check {
		return func(t *testing.T, _ *fakeBackend, _ *http.Response, body string) {
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("body does not contain %q:\n%s", w, body)
				}
			}
		}
	}
	header := func(name, want string) check {
		return func(t *testing.T, _ *fakeBackend, res *http.Response, _ string) {
			if got := res.Header.Get(name); got != want {
				t.Errorf("header %s = %q, want %q", name, got, want)
			}
		}
	}
	apiErr := func(want string) check {
		return func(t *testing.T, _ *fakeBackend, res *http.Response, body string) {
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if got := jsonError(t, body); !strings.Contains(got, want) {
				t.Errorf("error %q does not contain %q", got, want)
			}
		}
	}
	reloads := func(n int) check {
		return func(t *testing.T, f *fakeBackend, _ *http.Response, _ string) {
			if f.reloads != n {
				t.Errorf("%d reloads, want %d", f.reloads, n)
			}
		}
	}
	noBackendCall := func(t *testing.T, f *fakeBackend, _ *http.Response, _ string) {
		if len(f.figuresQs)+len(f.jobsQs) > 0 {
			t.Errorf("backend called for an invalid request: %v %v", f.figuresQs, f.jobsQs)
		}
	}
	const r30 = "from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z"

	for _, tc := range []struct {
		name, method, target string
		setup                func(f *fakeBackend)
		code                 int
		checks               []check
	}{
		{name: "healthy", method: "GET", target: "/-/healthy", code: 200, checks: []check{contains("healthy")}},
		{name: "healthy even when not ready", method: "GET", target: "/-/healthy", code: 200,
			setup: func(f *fakeBackend) { f.ready, f.reason = false, "loading store" }},
		{name: "healthy HEAD", method: "HEAD", target: "/-/healthy", code: 200},
		{name: "healthy POST", method: "POST", target: "/-/healthy", code: 405, checks: []check{header("Allow", "GET, HEAD")}},
		{name: "ready", method: "GET", target: "/-/ready", code: 200, checks: []check{contains("ready")}},
		{name: "not ready", method: "GET", target: "/-/ready", code: 503,
			setup:  func(f *fakeBackend) { f.ready, f.reason = false, "loading store: 40% of 1000000 jobs" },
			checks: []check{contains("loading store: 40% of 1000000 jobs")}},
		{name: "not ready without reason", method: "GET", target: "/-/ready", code: 503,
			setup: func(f *fakeBackend) { f.ready = false }, checks: []check{contains("not ready")}},

		{name: "reload GET refused", method: "GET", target: "/-/reload", code: 405,
			checks: []check{header("Allow", "POST, PUT"), reloads(0)}},
		{name: "reload DELETE refused", method: "DELETE", target: "/-/reload", code: 405, checks: []check{reloads(0)}},
		{name: "reload POST", method: "POST", target: "/-/reload", code: 200, checks: []check{reloads(1), contains("reloaded")}},
		{name: "reload PUT", method: "PUT", target: "/-/reload", code: 200, checks: []check{reloads(1)}},
		{name: "reload fails", method: "POST", target: "/-/reload", code: 500,
			setup: func(f *fakeBackend) {
				f.reloadErr = errors.New(`config.yaml: sources[0].interval: "5x" is not a duration`)
			},
			checks: []check{reloads(1), contains(`sources[0].interval: "5x" is not a duration`)}},

		{name: "summary without snapshot", method: "GET", target: "/api/v1/summary", code: 503,
			setup: func(f *fakeBackend) { f.snap = nil }, checks: []check{apiErr("no snapshot")}},
		{name: "summary POST", method: "POST", target: "/api/v1/summary", code: 405, checks: []check{apiErr("method POST")}},
		{name: "summary unknown endpoint", method: "GET", target: "/api/v1/nothing", code: 404, checks: []check{apiErr("/api/v1/nothing")}},
		{name: "rule hits without snapshot", method: "GET", target: "/api/v1/rules/hits", code: 503,
			setup: func(f *fakeBackend) { f.snap = nil }, checks: []check{apiErr("no snapshot")}},

		{name: "figures without from", method: "GET", target: "/api/v1/figures?to=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "from": required`), noBackendCall}},
		{name: "figures without to", method: "GET", target: "/api/v1/figures?from=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "to": required`)}},
		{name: "figures bad from", method: "GET", target: "/api/v1/figures?from=yesterday&to=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "from": "yesterday" is not an RFC 3339 time`)}},
		{name: "figures date only", method: "GET", target: "/api/v1/figures?from=2025-02-01&to=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "from"`)}},
		{name: "figures empty range", method: "GET", target: "/api/v1/figures?from=2025-03-01T00:00:00Z&to=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "to"`), apiErr("is empty")}},
		{name: "figures bad every", method: "GET", target: "/api/v1/figures?" + r30 + "&every=fortnight", code: 400,
			checks: []check{apiErr(`parameter "every": "fortnight" is not a period`)}},
		{name: "figures every twice", method: "GET", target: "/api/v1/figures?" + r30 + "&every=day&every=week", code: 400,
			checks: []check{apiErr(`parameter "every": given 2 times`)}},
		{name: "figures bad by", method: "GET", target: "/api/v1/figures?" + r30 + "&by=cluster,job", code: 400,
			checks: []check{apiErr(`parameter "by": unknown grouping key "job"`)}},
		{name: "figures by twice", method: "GET", target: "/api/v1/figures?" + r30 + "&by=class&by=class", code: 400,
			checks: []check{apiErr(`parameter "by": grouping key "class" is given twice`)}},
		{name: "figures unknown parameter", method: "GET", target: "/api/v1/figures?" + r30 + "&step=1h", code: 400,
			checks: []check{apiErr(`parameter "step": unknown parameter`)}},
		{name: "figures bad tz", method: "GET", target: "/api/v1/figures?" + r30 + "&tz=Mars/Olympus", code: 400,
			checks: []check{apiErr(`parameter "tz": unknown time zone "Mars/Olympus"`)}},
		{name: "figures too many points", method: "GET", target: "/api/v1/figures?from=2000-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&every=hour", code: 400,
			checks: []check{apiErr(`parameter "every"`), apiErr("more than 10000 periods")}},
		{name: "figures malformed query", method: "GET", target: "/api/v1/figures?from=%zz", code: 400,
			checks: []check{apiErr(`parameter "query": malformed`)}},
		{name: "figures refused by backend", method: "GET", target: "/api/v1/figures?" + r30, code: 400,
			setup: func(f *fakeBackend) {
				f.figuresErr = fmt.Errorf("range before the store's history: %w", ErrInvalidQuery)
			},
			checks: []check{apiErr("range before the store's history")}},
		{name: "figures backend not ready", method: "GET", target: "/api/v1/figures?" + r30, code: 503,
			setup:  func(f *fakeBackend) { f.figuresErr = fmt.Errorf("store loading: %w", ErrNotReady) },
			checks: []check{apiErr("store loading")}},
		{name: "figures backend fails", method: "GET", target: "/api/v1/figures?" + r30, code: 500,
			setup:  func(f *fakeBackend) { f.figuresErr = errors.New("disk on fire") },
			checks: []check{apiErr("figures: disk on fire")}},

		{name: "jobs bad class", method: "GET", target: "/api/v1/jobs?class=ai_training,gaming", code: 400,
			checks: []check{apiErr(`parameter "class": "gaming" is not a class`), noBackendCall}},
		{name: "jobs bad state", method: "GET", target: "/api/v1/jobs?state=DONE", code: 400,
			checks: []check{apiErr(`parameter "state": "DONE" is not a job state`), apiErr("COMPLETED")}},
		{name: "jobs limit zero", method: "GET", target: "/api/v1/jobs?limit=0", code: 400,
			checks: []check{apiErr(`parameter "limit": 0 is out of range [1, 10000]`)}},
		{name: "jobs limit too large", method: "GET", target: "/api/v1/jobs?limit=10001", code: 400,
			checks: []check{apiErr(`parameter "limit"`)}},
		{name: "jobs limit not a number", method: "GET", target: "/api/v1/jobs?limit=ten", code: 400,
			checks: []check{apiErr(`parameter "limit": "ten" is not a whole number`)}},
		{name: "jobs negative offset", method: "GET", target: "/api/v1/jobs?offset=-1", code: 400,
			checks: []check{apiErr(`parameter "offset"`)}},
		{name: "jobs empty range", method: "GET", target: "/api/v1/jobs?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", code: 400,
			checks: []check{apiErr(`parameter "to"`)}},
		{name: "jobs unknown parameter", method: "GET", target: "/api/v1/jobs?partiton=gpu", code: 400,
			checks: []check{apiErr(`parameter "partiton": unknown parameter`)}},
		{name: "jobs backend fails", method: "GET", target: "/api/v1/jobs", code: 500,
			setup:  func(f *fakeBackend) { f.jobsErr = errors.New("database is locked") },
			checks: []check{apiErr("jobs: database is locked")}},

		{name: "page", method: "GET", target: "/", code: 200,
			checks: []check{header("Content-Type", "text/html; charset=utf-8"), header("Content-Security-Policy", contentSecurityPolicy)}},
		{name: "page POST", method: "POST", target: "/", code: 405},
		{name: "unknown path", method: "GET", target: "/status", code: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			s := newTestServer(t, f, Options{})
			res, body := call(t, s.Handler(), tc.method, tc.target)
			if res.StatusCode != tc.code {
				t.Errorf("status %d, want %d; body:\n%s", res.StatusCode, tc.code, body)
			}
			for _, c := range tc.checks {
				c(t, f, res, body)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	f := newFake()
	f.ready, f.reason = false, "catching up"
	s := newTestServer(t, f, Options{})
	res, body := call(t, s.Handler(), "GET", "/api/v1/summary")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var got apiv1.Summary
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(f.snap.Time) || got.Ready || got.Reason != "catching up" {
		t.Errorf("time %v ready %v reason %q", got.Time, got.Ready, got.Reason)
	}
	if len(got.Headline) != 8 || got.Headline[0] != (apiv1.HeadlineFigure{Cluster: "alpha", Window: "1h", Basis: "cpu", Utilization: 0.9, AIShare: 0.2}) {
		t.Errorf("headline %+v", got.Headline)
	}
	if len(got.Windows) != 8 || got.Windows[7].Cluster != nastyCluster || got.Windows[7].AIShareUpper != 2.0/3+0.01 {
		t.Errorf("windows %+v", got.Windows)
	}
	wantNow := []apiv1.ClusterNow{
		{Cluster: "alpha", RunningJobs: 1312, RunningCores: 21248, RunningAccelerators: 48, PendingJobs: 7, PendingCores: 448, PendingAccelerators: 28},
		{Cluster: nastyCluster, RunningJobs: 3, RunningCores: 96},
	}
	if !reflect.DeepEqual(got.Current, wantNow) {
		t.Errorf("current %+v\nwant %+v", got.Current, wantNow)
	}
	if len(got.Sources) != 3 {
		t.Fatalf("sources %+v", got.Sources)
	}
	sacct := got.Sources[0]
	if sacct.Name != "alpha-sacct" || !sacct.Up || sacct.Skipped != 7 || sacct.LagSeconds != 180 ||
		sacct.PollSecondsAverage != 0.25 || sacct.Records["stored"] != 1234567 || sacct.Failures != 1 {
		t.Errorf("sacct %+v", sacct)
	}
	if jc := got.Sources[1]; jc.Up || !strings.Contains(jc.LastError, "permission denied") {
		t.Errorf("jobcomp %+v", jc)
	}
	// A source that never succeeded has no last_success at all.
	if strings.Count(body, `"last_success"`) != 2 {
		t.Errorf("last_success printed for a source that never succeeded:\n%s", body)
	}
	if !got.Config.LastReloadSuccess || got.Config.Hash != "0123456789abcdef0123" {
		t.Errorf("config %+v", got.Config)
	}
}

func TestRuleHits(t *testing.T) {
	s := newTestServer(t, newFake(), Options{})
	res, body := call(t, s.Handler(), "GET", "/api/v1/rules/hits")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var got apiv1.RuleHits
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := []apiv1.RuleHit{{Rule: "torchrun", Hits: 120}, {Rule: "gromacs", Hits: 40}, {Rule: "vllm-serve", Hits: 40}, {Rule: "never", Hits: 0}}
	if !reflect.DeepEqual(got.Rules, want) {
		t.Errorf("rules %+v, want %+v", got.Rules, want)
	}
}

func TestFigures(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        FiguresQuery
		periods     int
	}{
		{name: "totals", query: "from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z",
			want: FiguresQuery{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "daily by cluster and class", query: "from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z&every=day&by=cluster,class",
			want: FiguresQuery{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
				Every: usage.Day, By: []usage.Key{usage.KeyCluster, usage.KeyClass}}, periods: 28},
		{name: "repeated by, upper case, offset times", query: "from=2025-02-01T01:00:00%2B01:00&to=2025-02-01T03:00:00.5Z&every=HOUR&by=partition&by=Model",
			want: FiguresQuery{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 3, 0, 0, 5e8, time.UTC),
				Every: usage.Hour, By: []usage.Key{usage.KeyPartition, usage.KeyModel}}, periods: 4},
		{name: "weekly in a zone", query: "from=2025-01-06T00:00:00%2B01:00&to=2025-02-03T00:00:00%2B01:00&every=week&tz=Europe/Berlin",
			want: FiguresQuery{From: time.Date(2025, 1, 5, 23, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 2, 23, 0, 0, 0, time.UTC),
				Every: usage.Week}, periods: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			s := newTestServer(t, f, Options{})
			res, body := call(t, s.Handler(), "GET", "/api/v1/figures?"+tc.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if len(f.figuresQs) != 1 {
				t.Fatalf("%d backend calls", len(f.figuresQs))
			}
			got := f.figuresQs[0]
			if !got.From.Equal(tc.want.From) || !got.To.Equal(tc.want.To) || got.Every != tc.want.Every || !slices.Equal(got.By, tc.want.By) {
				t.Errorf("query %+v, want %+v", got, tc.want)
			}
			if strings.Contains(tc.query, "tz=") != (got.Location != nil) {
				t.Errorf("location %v", got.Location)
			}
			var rep apiv1.Report
			if err := json.Unmarshal([]byte(body), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Series) != tc.periods {
				t.Errorf("%d periods, want %d", len(rep.Series), tc.periods)
			}
			if rep.Headline.Utilization != 0.5 || rep.CPU.Utilization != dayFigures(0).CPU.Utilization {
				t.Errorf("report %+v", rep.Headline)
			}
		})
	}
}

func TestJobs(t *testing.T) {
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	rec := &job.Record{Cluster: "alpha", JobID: "123_7", Name: "train <llama>", User: "ada", Account: "ml", Partition: "gpu",
		State: job.StateRunning, Start: start, Nodes: 2, Cores: 64, Accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 8}}}
	row := NewJobRow(rec, job.Decision{Class: job.ClassAITraining, Rules: []string{"torchrun"}})

	for _, tc := range []struct {
		name, query string
		page        JobsPage
		want        JobsQuery
		wantPage    JobsPage
	}{
		{name: "defaults", page: JobsPage{},
			want:     JobsQuery{Limit: DefaultJobsLimit},
			wantPage: JobsPage{Limit: DefaultJobsLimit, Jobs: []JobRow{}}},
		{name: "filters", query: "cluster=alpha,beta&cluster=gamma&partition=gpu&account=ml&user=ada&class=AI_Training,unknown&state=running,completed&from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z&limit=1&offset=10",
			page: JobsPage{Jobs: []JobRow{row}, More: true},
			want: JobsQuery{From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC),
				Clusters: []string{"alpha", "beta", "gamma"}, Partitions: []string{"gpu"}, Accounts: []string{"ml"}, Users: []string{"ada"},
				Classes: []job.Class{job.ClassAITraining, job.ClassUnknown}, States: []job.State{job.StateRunning, job.StateCompleted},
				Limit: 1, Offset: 10},
			wantPage: JobsPage{Limit: 1, Offset: 10, More: true, Jobs: []JobRow{row}}},
		{name: "backend returns too many", query: "limit=1",
			page:     JobsPage{Jobs: []JobRow{row, row}},
			want:     JobsQuery{Limit: 1},
			wantPage: JobsPage{Limit: 1, More: true, Jobs: []JobRow{row}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.page = tc.page
			s := newTestServer(t, f, Options{})
			res, body := call(t, s.Handler(), "GET", "/api/v1/jobs?"+tc.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if len(f.jobsQs) != 1 || !reflect.DeepEqual(f.jobsQs[0], tc.want) {
				t.Errorf("query %+v\nwant %+v", f.jobsQs, tc.want)
			}
			var got JobsPage
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.wantPage) {
				t.Errorf("page %+v\nwant %+v", got, tc.wantPage)
			}
		})
	}

	// The wire format of a row is the contract of the Grafana data source.
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"job_id":"123_7","cluster":"alpha","partition":"gpu","account":"ml","user":"ada","name":"train \u003cllama\u003e","state":"RUNNING","start":"2025-03-01T08:00:00Z","nodes":2,"cores":64,"accelerators":[{"name":"gpu","type":"a100","count":8}],"class":"ai_training","rules":["torchrun"]}`
	if string(b) != want {
		t.Errorf("row JSON\n%s\nwant\n%s", b, want)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "scmon_source_up", Help: "Whether the last poll of the source succeeded."}, []string{"source"})
	up.WithLabelValues("alpha-sacct").Set(1)
	reg.MustRegister(up)
	self := prometheus.NewRegistry()
	s := newTestServer(t, newFake(), Options{Gatherer: reg, Registerer: self})
	res, body := call(t, s.Handler(), "GET", "/metrics")
	if res.StatusCode != 200 || !strings.Contains(body, `scmon_source_up{source="alpha-sacct"} 1`) {
		t.Errorf("status %d, body:\n%s", res.StatusCode, body)
	}
	call(t, s.Handler(), "GET", "/api/v1/jobs?limit=0")
	call(t, s.Handler(), "GET", "/")
	want := `
# HELP scmon_http_requests_total HTTP requests served, by handler and status code.
# TYPE scmon_http_requests_total counter
scmon_http_requests_total{code="200",handler="/"} 1
scmon_http_requests_total{code="200",handler="/metrics"} 1
scmon_http_requests_total{code="400",handler="/api/v1/jobs"} 1
`
	if err := testutil.GatherAndCompare(self, strings.NewReader(want), "scmon_http_requests_total"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(self); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestNilGatherer(t *testing.T) {
	s := newTestServer(t, newFake(), Options{})
	if res, body := call(t, s.Handler(), "GET", "/metrics"); res.StatusCode != 200 || body != "" {
		t.Errorf("status %d, body %q", res.StatusCode, body)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                         "0 s",
		45 * time.Second:                          "45 s",
		3*time.Minute + 20*time.Second:            "3 min 20 s",
		2*time.Hour + 5*time.Minute + 1:           "2 h 5 min",
		26*time.Hour + 5*time.Minute:              "1 d 2 h",
		72 * time.Hour:                            "3 d 0 h",
		-90 * time.Second:                         "-1 min 30 s",
		time.Hour + 30*time.Second:                "1 h 0 min",
		999 * time.Millisecond:                    "0 s",
		100*24*time.Hour + 23*time.Hour:           "100 d 23 h",
		59*time.Minute + 59*time.Second:           "59 min 59 s",
		24*time.Hour - time.Nanosecond:            "23 h 59 min",
		24*time.Hour + 59*time.Second:             "1 d 0 h",
		7*24*time.Hour + 12*time.Minute:           "7 d 0 h",
		time.Duration(1.5 * float64(time.Second)): "1 s",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4321: "-4,321", 2.6: "3"} {
		if got := count(v); got != want {
			t.Errorf("count(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFake()
	f.figuresErr = errors.New("disk on fire")
	s := newTestServer(t, f, Options{Logger: logger})
	call(t, s.Handler(), "GET", "/metrics")
	call(t, s.Handler(), "GET", "/api/v1/jobs?limit=0")
	call(t, s.Handler(), "GET", "/api/v1/figures?from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z")
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct {
			Level, Msg, Handler, Err string
			Status                   int
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %s", rec.Level, rec.Msg, rec.Handler, rec.Status, rec.Err))
	}
	want := []string{
		"DEBUG http request /metrics 200 ",
		"INFO http request /api/v1/jobs 400 ",
		"ERROR query failed  0 disk on fire",
		"WARN http request /api/v1/figures 500 ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReloadCrossOrigin: over a real connection, a reload a page of another
// site makes a browser send (its Origin, or Sec-Fetch-Site: cross-site) is
// refused with 403 and nothing reloaded; same-origin browsers and clients
// that send neither header (curl, scripts) reload.
func TestReloadCrossOrigin(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		code    int
	}{
		{"no origin (curl)", "POST", nil, 200},
		{"cross-site form", "POST", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"cross-site fetch", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"same-site other origin", "POST", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://other." + host}, 403},
		{"cross-site PUT", "PUT", map[string]string{"Origin": "null"}, 403},
		{"same origin", "POST", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + host}, 200},
		{"origin of this host, old browser", "POST", map[string]string{"Origin": "http://" + host}, 200},
		{"typed by the user", "POST", map[string]string{"Sec-Fetch-Site": "none"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.reloads
			req, err := http.NewRequest(tc.method, srv.URL+"/-/reload", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.code {
				t.Errorf("status %d, want %d: %s", res.StatusCode, tc.code, body)
			}
			f.mu.Lock()
			reloaded := f.reloads - before
			f.mu.Unlock()
			if want := map[bool]int{true: 1, false: 0}[tc.code == 200]; reloaded != want {
				t.Errorf("%d reloads, want %d", reloaded, want)
			}
			if tc.code == 403 && !strings.Contains(string(body), "another site") {
				t.Errorf("refusal does not say why: %s", body)
			}
		})
	}
}
