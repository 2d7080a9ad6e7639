package plugin

import (
	"context"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"
)

var (
	update = flag.Bool("update", false, "rewrite the golden frames in testdata/cases from the plugin's answers")
	record = flag.Bool("record", false, "record testdata/scmon again from a real `scmon serve` of the sample center, move the cases to now and rewrite the golden frames")
)

const (
	casesDir     = "testdata/cases"
	exchangesDir = "testdata/scmon"
	// fakeURL is the data source's URL in the tests: requests to it are
	// sent to the replay server, so that the golden frames do not depend
	// on the replay server's port.
	fakeURL = "http://scmon.test:9810"
)

// redirect sends every request to target, keeping path and query.
type redirect struct {
	target *url.URL
	next   http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	req.Host = r.target.Host
	return r.next.RoundTrip(req)
}

// settingsJSON returns instance settings with jsonData js and the given
// secure data.
func settingsJSON(js string, secure map[string]string) backend.DataSourceInstanceSettings {
	return backend.DataSourceInstanceSettings{Name: "scmon", UID: "scmon", JSONData: []byte(js), DecryptedSecureJSONData: secure}
}

// newTestDatasource returns a data source configured for fakeURL whose
// requests go to target (through rec first, when set) and whose clock is
// at.
func newTestDatasource(t testing.TB, target string, at time.Time, rec *scmontest.Recorder) *Datasource {
	t.Helper()
	d := newDatasource(settingsJSON(`{"url":"`+fakeURL+`","timeout":20,"allowGroupByAccountUser":true}`, nil), log.NewNullLogger(), func() time.Time { return at })
	if d.settingsErr != nil {
		t.Fatal(d.settingsErr)
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	next := d.hc.Transport
	if rec != nil {
		rec.Next = next
		next = rec
	}
	d.hc.Transport = redirect{target: u, next: next}
	t.Cleanup(d.Dispose)
	return d
}

// TestCasesGolden runs every case of testdata/cases against the recorded
// answers of scmon and compares the answer with its golden file. With
// -record, it first records the answers from a real `scmon serve`.
func TestCasesGolden(t *testing.T) {
	cases := scmontest.LoadCases(t, casesDir)
	var target string
	var rec *scmontest.Recorder
	var at time.Time
	if *record {
		srv := scmontest.StartServe(t)
		target = srv.URL
		at = time.Now().UTC().Truncate(time.Hour)
		old, _ := filepath.Glob(filepath.Join(exchangesDir, "*.json"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		rec = &scmontest.Recorder{Dir: exchangesDir}
	} else {
		target = scmontest.NewReplay(t, exchangesDir).URL
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if *record {
				c = c.Shift(at)
				if err := c.Save(casesDir); err != nil {
					t.Fatal(err)
				}
			}
			d := newTestDatasource(t, target, c.At, rec)
			resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{c.Query()}})
			if err != nil {
				t.Fatal(err)
			}
			dr, ok := resp.Responses["A"]
			if !ok {
				t.Fatalf("no response for refId A: %v", resp.Responses)
			}
			checkGolden(t, c.Name, &dr, *update || *record)
		})
	}
	if *record {
		// The health check's answers are recorded too.
		d := newTestDatasource(t, target, at, rec)
		if res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{}); err != nil || res.Status != backend.HealthStatusOk {
			t.Fatalf("health check against the real scmon: %v %+v", err, res)
		}
		t.Logf("recorded %d exchanges", len(rec.Saved()))
	}
}

// checkGolden compares dr with the golden file of case name.
func checkGolden(t *testing.T, name string, dr *backend.DataResponse, write bool) {
	t.Helper()
	scmontest.Golden(t, casesDir, name, dr, write)
}
