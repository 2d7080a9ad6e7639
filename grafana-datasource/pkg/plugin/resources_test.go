package plugin

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/scmon/scmon/grafana-datasource/internal/scmontest"

	"github.com/scmon/scmon/internal/testutil"
)

// callResource sends GET url to d's resource handler and returns the
// answer.
func callResource(t *testing.T, d *Datasource, method, path, url string) (int, string) {
	t.Helper()
	var got *backend.CallResourceResponse
	err := d.CallResource(context.Background(), &backend.CallResourceRequest{Path: path, Method: method, URL: url},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
			got = r
			return nil
		}))
	if err != nil || got == nil {
		t.Fatalf("CallResource %s: %v", url, err)
	}
	if ct := got.Headers["Content-Type"]; !slices.Equal(ct, []string{"application/json"}) || !json.Valid(got.Body) {
		t.Errorf("CallResource %s: content type %q, body %s", url, ct, got.Body)
	}
	return got.Status, string(got.Body)
}

// figuresServer answers /api/v1/figures with one group per value of the
// requested key, recording the requests.
func figuresServer(t *testing.T, reqs *[]string) string {
	return scmonAnswering(t, func(w http.ResponseWriter, r *http.Request) {
		*reqs = append(*reqs, r.URL.RequestURI())
		by := r.URL.Query().Get("by")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"window":{},"by":["` + by + `"],"groups":[{"keys":{"` + by + `":"npu"}},{"keys":{"` + by + `":"gpu"}},{"keys":{"` + by + `":""}},{"keys":{"` + by + `":"gpu"}}]}`))
	})
}

func TestResources(t *testing.T) {
	at := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	var reqs []string
	u := figuresServer(t, &reqs)
	d := datasourceFor(t, `{"url":"`+u+`","allowGroupByAccountUser":true}`, nil, at)
	f := func(method, path, url string, status int, want string) {
		t.Helper()
		code, body := callResource(t, d, method, path, url)
		if code != status || !strings.Contains(body, want) {
			t.Errorf("%s %s: %d %s, want %d and %q", method, url, code, body, status, want)
		}
	}
	// Values sorted, distinct, empty ones dropped; the default range is the
	// last 30 days; from and to take RFC 3339 or epoch milliseconds, and
	// to is cut at now.
	f("GET", "partitions", "partitions", 200, `{"values":["gpu","npu"]}`)
	f("GET", "/accounts", "accounts?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", 200, `"gpu","npu"`)
	f("", "models", "models?from=1763942400000&to=1893456000000", 200, `"values"`)
	f("GET", "users", "users?to=2026-11-20T00:00:00Z", 200, `"values"`)
	want := []string{
		"/api/v1/figures?by=partition&from=2026-10-29T18%3A00%3A00Z&to=2026-11-28T18%3A00%3A00Z",
		"/api/v1/figures?by=account&from=2026-11-01T00%3A00%3A00Z&to=2026-11-02T00%3A00%3A00Z",
		"/api/v1/figures?by=model&from=2025-11-24T00%3A00%3A00Z&to=2026-11-28T18%3A00%3A00Z",
		"/api/v1/figures?by=user&from=2026-10-21T00%3A00%3A00Z&to=2026-11-20T00%3A00%3A00Z",
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("requests to scmon:\n%s\nwant\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
	// Classes are scmon's fixed four, without a request.
	f("GET", "classes", "classes", 200, `{"values":["ai_training","ai_inference","other","unknown"]}`)
	f("GET", "hosts", "hosts", 404, `no resource \"hosts\": want one of accounts, classes, clusters, kinds, models, partitions, users`)
	f("POST", "partitions", "partitions", 405, "only GET")
	f("GET", "partitions", "partitions?from=last+week", 400, `from \"last week\"`)
	f("GET", "partitions", "partitions?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", 400, "is not after from")
	if len(reqs) != 4 {
		t.Errorf("%d requests to scmon, want the 4 above", len(reqs))
	}

	// scmon's errors keep their status and message.
	bad := scmonAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"parameter \"by\": unknown key"}`, http.StatusBadRequest)
	})
	d = datasourceFor(t, `{"url":"`+bad+`"}`, nil, at)
	f("GET", "partitions", "partitions", 400, `unknown key`)
	f("GET", "accounts", "accounts", 403, `Allow grouping by account and user`)
	d = datasourceFor(t, `{"url":"http://`+testutil.FreeAddr(t)+`"}`, nil, at)
	f("GET", "kinds", "kinds", 502, "cannot reach scmon")
	d = datasourceFor(t, `{}`, nil, at)
	f("GET", "kinds", "kinds", 400, "data source settings: jsonData.url is required")
}

// TestAccountUserSwitch checks that grouping by account or user is
// refused per query while the settings do not allow it, before any
// request reaches scmon, and that other queries of the same request
// answer.
func TestAccountUserSwitch(t *testing.T) {
	at := testAt(t)
	replay := scmontest.NewReplay(t, exchangesDir)
	on := newTestDatasource(t, replay.URL, at, nil)
	off := newTestDatasource(t, replay.URL, at, nil)
	off.settings.AllowGroupByAccountUser = false

	var qs []backend.DataQuery
	for _, c := range scmontest.LoadCases(t, casesDir) {
		if c.Name == "table-accounts-ai-share" || c.Name == "figures-partition-billing" {
			q := c.Query()
			q.RefID = c.Name
			qs = append(qs, q)
		}
	}
	refused := map[string]string{
		"by-user":        `{"groupBy":["partition","user"]}`,
		"account-filter": `{"accounts":"astro"}`,
		"user-filter":    `{"users":["alice"]}`,
	}
	for id, js := range refused {
		qs = append(qs, dayQuery(id, js, at))
	}
	resp, err := off.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"table-accounts-ai-share", "by-user", "account-filter", "user-filter"} {
		wantError(t, resp.Responses[id], backend.StatusForbidden, `"Allow grouping by account and user"`)
	}
	if r := resp.Responses["figures-partition-billing"]; r.Error != nil || len(r.Frames) == 0 {
		t.Errorf("figures-partition-billing next to refused queries: %v", r.Error)
	}
	if n := len(replay.Requests()); n != 1 {
		t.Errorf("%d requests reached scmon, want the one of figures-partition-billing", n)
	}

	// Switched on, the same table query answers.
	resp, err = on.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs[:2]})
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range resp.Responses {
		if r.Error != nil {
			t.Errorf("%s with the switch on: %v", id, r.Error)
		}
	}
}

// TestCACertificate trusts a server's self-signed certificate through
// secureJsonData.tlsCACert instead of skipping verification.
func TestCACertificate(t *testing.T) {
	at := testAt(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"limit":1,"offset":0,"more":false,"jobs":[]}`))
	}))
	t.Cleanup(srv.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	q := dayQuery("A", `{"queryType":"jobs","limit":1}`, at)
	d := datasourceFor(t, `{"url":"`+srv.URL+`"}`, map[string]string{"tlsCACert": ca}, at)
	if r := queryOne(t, context.Background(), d, q); r.Error != nil {
		t.Fatalf("with the server's certificate as CA: %v", r.Error)
	}
	// The certificate names example.com: another server name fails.
	d = datasourceFor(t, `{"url":"`+srv.URL+`","tlsServerName":"scmon.example.org"}`, map[string]string{"tlsCACert": ca}, at)
	wantError(t, queryOne(t, context.Background(), d, q), backend.StatusBadGateway, "scmon.example.org")
}
