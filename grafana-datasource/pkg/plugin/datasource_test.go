package plugin

import (
	"context"
	"encoding/json"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"

	"github.com/scmon/scmon/internal/testutil"
)

// testAt is a clock inside the recorded cases' ranges.
func testAt(t *testing.T) time.Time {
	t.Helper()
	for _, c := range scmontest.LoadCases(t, casesDir) {
		if c.Name == "figures-center-daily" {
			return c.At
		}
	}
	t.Fatal("case figures-center-daily is missing")
	return time.Time{}
}

// dayQuery is a figures query of the day before at.
func dayQuery(refID, js string, at time.Time) backend.DataQuery {
	return backend.DataQuery{RefID: refID, TimeRange: backend.TimeRange{From: at.Add(-24 * time.Hour), To: at},
		Interval: time.Hour, MaxDataPoints: 1000, JSON: json.RawMessage(js)}
}

// queryOne runs q on d and returns its response.
func queryOne(t *testing.T, ctx context.Context, d *Datasource, q backend.DataQuery) backend.DataResponse {
	t.Helper()
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
	if err != nil {
		t.Fatalf("QueryData failed as a whole: %v", err)
	}
	r, ok := resp.Responses[q.RefID]
	if !ok {
		t.Fatalf("no response for refId %q", q.RefID)
	}
	return r
}

// wantError checks that r is an error of the given status whose message
// contains want.
func wantError(t *testing.T, r backend.DataResponse, status backend.Status, want string) {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("no error, want one containing %q; frames %v", want, r.Frames)
	}
	if r.Status != status || !strings.Contains(r.Error.Error(), want) {
		t.Errorf("got %d %q, want %d and a message containing %q", r.Status, r.Error, status, want)
	}
	if r.ErrorSource == "" {
		t.Errorf("error %q has no error source", r.Error)
	}
}

func TestBadQueries(t *testing.T) {
	// A bad query never reaches scmon: the replay server fails the test
	// on any request it has no recording for.
	at := testAt(t)
	replay := scmontest.NewReplay(t, exchangesDir)
	d := newTestDatasource(t, replay.URL, at, nil)
	f := func(queryType, js, want string) {
		t.Helper()
		q := dayQuery("B", js, at)
		q.QueryType = queryType
		wantError(t, queryOne(t, context.Background(), d, q), backend.StatusBadRequest, want)
	}
	f("", `{not json`, "query JSON")
	f("", `[]`, "query JSON")
	f("", `{"figures": 5}`, "query JSON")
	f("", `{"groupBy": {"a": 1}}`, "query JSON")
	f("", `{"limit": "ten"}`, "query JSON")
	f("metrics", `{}`, `queryType "metrics"`)
	f("", `{"queryType": "logs"}`, `queryType "logs"`)
	f("", `{"resource": "gpu"}`, `resource "gpu"`)
	f("", `{"figures": ["utilisation"]}`, `figures "utilisation"`)
	f("", `{"figures": "utilization,utilization"}`, "given twice")
	f("", `{"every": "minute"}`, `every "minute"`)
	f("", `{"groupBy": ["partition", "host"]}`, `groupBy "host"`)
	f("", `{"groupBy": "partition,partition"}`, `groupBy "partition": given twice`)
	f("table", `{}`, "a table query ranks groups")
	f("table", `{"groupBy": "account", "orderBy": "jobs"}`, `orderBy "jobs"`)
	f("table", `{"groupBy": "account", "limit": 1001}`, "limit 1001: want 1 to 1000")
	f("jobs", `{"limit": -1}`, "limit -1")
	f("jobs", `{"limit": 10001}`, "limit 10001: want 1 to 10000")
	f("jobs", `{"classes": ["training"]}`, `classes "training"`)
	f("jobs", `{"models": ["a100"]}`, "a jobs query does not filter by accelerator")
	f("jobs", `{"columns": ["job_id", "host"]}`, `columns "host"`)
	f("jobs", `{"columns": "class,class"}`, `columns "class": given twice`)
	f("jobs", `{"limit": "$limit"}`, "query JSON")
	f("table", `{"groupBy": "partition", "order": "up"}`, `order "up": want desc or asc`)
	f("", `{"classes": ["ai"]}`, `classes "ai"`)
	f("", `{"states": ["RUNNING"]}`, "only a jobs query filters by job state")
	if n := len(replay.Requests()); n != 0 {
		t.Errorf("%d requests reached scmon", n)
	}
}

// TestQueriesAnsweredPerRefID sends good and bad queries in one request:
// each gets its own answer.
func TestQueriesAnsweredPerRefID(t *testing.T) {
	at := testAt(t)
	d := newTestDatasource(t, scmontest.NewReplay(t, exchangesDir).URL, at, nil)
	var qs []backend.DataQuery
	for _, c := range scmontest.LoadCases(t, casesDir) {
		q := c.Query()
		q.RefID = c.Name
		qs = append(qs, q)
	}
	qs = append(qs, dayQuery("bad", `{"every": "fortnight"}`, at))
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Responses) != len(qs) {
		t.Fatalf("%d responses for %d queries", len(resp.Responses), len(qs))
	}
	wantError(t, resp.Responses["bad"], backend.StatusBadRequest, "fortnight")
	for _, id := range []string{"figures-center-daily", "table-partitions", "jobs-ai-training"} {
		r := resp.Responses[id]
		if r.Error != nil || len(r.Frames) == 0 || r.Frames[0].Rows() == 0 {
			t.Errorf("%s: error %v, %d frames", id, r.Error, len(r.Frames))
		}
	}
	wantError(t, resp.Responses["jobs-bad-state"], backend.StatusBadRequest, `parameter "state"`)
	wantError(t, resp.Responses["figures-too-many-points"], backend.StatusBadRequest, `parameter "every"`)
}

// scmonAnswering starts a server answering every request with h.
func scmonAnswering(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// datasourceFor returns a data source with jsonData js, its clock at.
func datasourceFor(t *testing.T, js string, secure map[string]string, at time.Time) *Datasource {
	t.Helper()
	d := newDatasource(settingsJSON(js, secure), log.NewNullLogger(), func() time.Time { return at })
	t.Cleanup(d.Dispose)
	return d
}

func TestScmonErrors(t *testing.T) {
	at := testAt(t)
	q := dayQuery("A", `{}`, at)
	f := func(name string, h http.HandlerFunc, status backend.Status, want string) {
		t.Helper()
		u := scmonAnswering(t, h)
		d := datasourceFor(t, `{"url":"`+u+`"}`, nil, at)
		r := queryOne(t, context.Background(), d, q)
		wantError(t, r, status, want)
		if r.ErrorSource != backend.ErrorSourceDownstream {
			t.Errorf("%s: error source %q, want downstream", name, r.ErrorSource)
		}
	}
	jsonError := func(code int, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		}
	}
	f("400", jsonError(400, `parameter "tz": unknown time zone "Mars/Olympus"`), backend.StatusBadRequest,
		`scmon answered 400 on /api/v1/figures: parameter "tz": unknown time zone "Mars/Olympus"`)
	f("401", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "Unauthorized", http.StatusUnauthorized) },
		backend.StatusUnauthorized, "check basicAuthUser")
	f("404", http.NotFound, backend.StatusNotFound, "the address of `scmon serve`")
	f("503", jsonError(503, "not ready: loading the job store"), backend.StatusBadGateway, "not ready: loading the job store")
	f("500", jsonError(500, "figures: disk on fire"), backend.StatusBadGateway, "disk on fire")
	f("html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Please log in</body></html>"))
	}, backend.StatusBadGateway, "not scmon's JSON")
	f("proxy page", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(502)
		_, _ = w.Write([]byte("<html>\n<h1>502   Bad Gateway</h1>\n</html>"))
	}, backend.StatusBadGateway, "<html> <h1>502 Bad Gateway</h1> </html>")

	// scmon down: nobody listens on the port.
	d := datasourceFor(t, `{"url":"http://`+testutil.FreeAddr(t)+`"}`, nil, at)
	wantError(t, queryOne(t, context.Background(), d, q), backend.StatusBadGateway, "cannot reach scmon at http://127.0.0.1:")
}

// hang answers only when the client has gone.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func TestTimeouts(t *testing.T) {
	at := testAt(t)
	u := scmonAnswering(t, hang)

	// The data source's own timeout.
	d := datasourceFor(t, `{"url":"`+u+`","timeout":0.2}`, nil, at)
	start := time.Now()
	wantError(t, queryOne(t, context.Background(), d, dayQuery("A", `{}`, at)), backend.StatusTimeout,
		"scmon did not answer within the data source's timeout of 200ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("timeout of 200ms took %s", took)
	}

	// Grafana's deadline, shorter than the data source's timeout.
	d = datasourceFor(t, `{"url":"`+u+`","timeout":60}`, nil, at)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	wantError(t, queryOne(t, ctx, d, dayQuery("A", `{"queryType":"jobs"}`, at)), backend.StatusTimeout, "Grafana's deadline passed")
}

func TestBadSettingsAnswerEveryQuery(t *testing.T) {
	at := testAt(t)
	d := datasourceFor(t, `{"url":"scmon:9810"}`, nil, at)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dayQuery("A", `{}`, at), dayQuery("B", `{"queryType":"jobs"}`, at)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"A", "B"} {
		wantError(t, resp.Responses[id], backend.StatusBadRequest, "data source settings: jsonData.url")
	}
	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil || res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "want an http:// or https:// URL") {
		t.Errorf("health: %v %+v", err, res)
	}
}

func TestBasicAuthAndTLS(t *testing.T) {
	at := testAt(t)
	var gotUser, gotPass string
	var ok bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, ok = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"limit":1,"offset":0,"more":false,"jobs":[]}`))
	}))
	// The refused handshake is expected; keep it out of the test output.
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	q := dayQuery("A", `{"queryType":"jobs","limit":1}`, at)

	// A self-signed certificate fails without tlsSkipVerify...
	d := datasourceFor(t, `{"url":"`+srv.URL+`","basicAuthUser":"grafana"}`, map[string]string{"basicAuthPassword": "pa:ss"}, at)
	wantError(t, queryOne(t, context.Background(), d, q), backend.StatusBadGateway, "certificate")
	// ... and passes with it, the credentials sent.
	d = datasourceFor(t, `{"url":"`+srv.URL+`","basicAuthUser":"grafana","tlsSkipVerify":true}`, map[string]string{"basicAuthPassword": "pa:ss"}, at)
	r := queryOne(t, context.Background(), d, q)
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if !ok || gotUser != "grafana" || gotPass != "pa:ss" {
		t.Errorf("basic auth sent: %v %q %q", ok, gotUser, gotPass)
	}
	if n := r.Frames[0].Rows(); n != 0 {
		t.Errorf("%d rows from an empty page", n)
	}
}

func TestCheckHealth(t *testing.T) {
	at := testAt(t)
	d := newTestDatasource(t, scmontest.NewReplay(t, exchangesDir).URL, at, nil)
	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusOk {
		t.Fatalf("status %v: %s", res.Status, res.Message)
	}
	for _, want := range []string{"scmon is ready: snapshot of ", "cluster(s) sample", "; sample 30d billing utilization 65.9%, AI share 17.6%"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q lacks %q", res.Message, want)
		}
	}
	var det healthDetails
	if err := json.Unmarshal(res.JSONDetails, &det); err != nil || det.URL != fakeURL || len(det.Clusters) != 1 {
		t.Errorf("details %s: %v", res.JSONDetails, err)
	}

	f := func(name, js string, h http.HandlerFunc, want string) {
		t.Helper()
		if h != nil {
			js = strings.ReplaceAll(js, "URL", scmonAnswering(t, h))
		}
		res, err := datasourceFor(t, js, nil, at).CheckHealth(context.Background(), &backend.CheckHealthRequest{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, want) {
			t.Errorf("%s: got %v %q, want an error containing %q", name, res.Status, res.Message, want)
		}
	}
	f("not ready", `{"url":"URL"}`, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "scmon is not ready: loading the job store", http.StatusServiceUnavailable)
	}, "scmon answered 503 on /-/ready: scmon is not ready: loading the job store")
	f("no summary", `{"url":"URL"}`, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/ready" {
			return
		}
		http.Error(w, `{"error":"no snapshot published yet: the daemon is still starting"}`, http.StatusServiceUnavailable)
	}, "no snapshot published yet")
	f("not scmon", `{"url":"URL"}`, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}, "not scmon's JSON")
	f("down", `{"url":"http://`+testutil.FreeAddr(t)+`"}`, nil, "cannot reach scmon")
	f("unknown key", `{"url":"http://scmon","timeot":5}`, nil, `jsonData has keys the plugin does not know: timeot`)
	f("timeout", `{"url":"URL","timeout":0.2}`, hang, "did not answer within")
}

func TestChoosePeriod(t *testing.T) {
	const day = 24 * time.Hour
	f := func(rng, interval time.Duration, maxPoints int64, want string) {
		t.Helper()
		if got := choosePeriod(rng, interval, maxPoints); got != want {
			t.Errorf("choosePeriod(%s, %s, %d) = %s, want %s", rng, interval, maxPoints, got, want)
		}
	}
	f(30*day, 45*time.Minute, 1000, "hour")    // a month on a wide panel
	f(30*day, 2*time.Hour, 400, "day")         // a month on a narrow panel
	f(365*day, 9*time.Hour, 1000, "day")       // a year
	f(200*day, time.Second, 43200, "hour")     // an alert rule over 200 days: 4800 hours
	f(365*day, time.Second, 43200, "day")      // a year: too many hours for scmon
	f(5*365*day, 3*day, 1000, "week")          // five years
	f(20*365*day, 20*day, 1000, "month")       // twenty years
	f(200*365*day, time.Second, 100, "month")  // nothing fits: the longest period
	f(6*time.Hour, 0, 0, "hour")               // no hints
	f(10*day, time.Hour, 100, "day")           // 240 hours > 100 points
	f(400*day, time.Second, 0, "day")          // no budget: scmon's 10000 (400 days / 30 min > 10000)
	f(200*day, time.Second, 1_000_000, "hour") // budget above scmon's bound is capped
	f(7*day, 7*day, 1000, "week")              // interval of a week
	f(90*day, 8*day, 1000, "month")            // interval above a week
}

func TestFuturePlansNoRequest(t *testing.T) {
	at := testAt(t)
	u := scmonAnswering(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s", r.URL)
	})
	d := datasourceFor(t, `{"url":"`+u+`"}`, nil, at)
	for _, qt := range []string{"figures", "table", "jobs"} {
		q := backend.DataQuery{RefID: "A", QueryType: qt, TimeRange: backend.TimeRange{From: at.Add(time.Hour), To: at.Add(2 * time.Hour)},
			JSON: json.RawMessage(`{"groupBy":"partition"}`)}
		r := queryOne(t, context.Background(), d, q)
		if r.Error != nil || len(r.Frames) != 1 || len(r.Frames[0].Meta.Notices) != 1 {
			t.Errorf("%s: %v %v", qt, r.Error, r.Frames)
		}
	}
}

// TestFramesAlertable checks what Grafana's alerting needs of every
// figures answer: typed frames of one time and one number field each, and
// label sets unique across the answer.
func TestFramesAlertable(t *testing.T) {
	at := testAt(t)
	d := newTestDatasource(t, scmontest.NewReplay(t, exchangesDir).URL, at, nil)
	for _, c := range scmontest.LoadCases(t, casesDir) {
		if c.QueryType != QueryTypeFigures {
			continue
		}
		r := queryOne(t, context.Background(), d, c.Query())
		if r.Error != nil {
			continue
		}
		seen := map[string]bool{}
		for _, f := range r.Frames {
			if f.Meta == nil || f.Meta.Type != data.FrameTypeTimeSeriesMulti || f.Meta.TypeVersion.Less(data.FrameTypeVersion{0, 1}) {
				t.Errorf("%s: frame meta %+v", c.Name, f.Meta)
			}
			if len(f.Fields) == 0 {
				continue // the typed empty answer
			}
			if len(f.Fields) != 2 || f.Fields[0].Type() != data.FieldTypeTime || f.Fields[1].Type() != data.FieldTypeNullableFloat64 {
				t.Errorf("%s: fields %v", c.Name, f.Fields)
				continue
			}
			id := f.Fields[1].Labels.String()
			if seen[id] {
				t.Errorf("%s: label set %s twice", c.Name, id)
			}
			seen[id] = true
		}
	}
}
