package scmon

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// TestPathPrefix checks that a URL with a path (scmon behind a reverse
// proxy) keeps its prefix, and that credentials never show in URL.
func TestPathPrefix(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RequestURI()
		_, _ = w.Write([]byte(`{"limit":1,"offset":0,"more":false,"jobs":[]}`))
	}))
	defer srv.Close()
	for _, prefix := range []string{"/scmon", "/scmon/"} {
		base, _ := url.Parse(srv.URL + prefix)
		c := NewClient(base, srv.Client())
		if _, err := c.Jobs(context.Background(), apiv1.JobsRequest{Limit: 1, Classes: []string{"ai_training", "unknown"}}); err != nil {
			t.Fatal(err)
		}
		if want := "/scmon/api/v1/jobs?class=ai_training%2Cunknown&limit=1"; got != want {
			t.Errorf("prefix %q: asked %s, want %s", prefix, got, want)
		}
	}
	base, _ := url.Parse("https://u:p@scmon.example.org/x")
	q := apiv1.FiguresRequest{From: time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), To: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), Every: "day", By: []string{"partition", "model"}}
	if got, want := NewClient(base, nil).URL(apiv1.PathFigures, q.Values()), "https://scmon.example.org/x/api/v1/figures?by=partition%2Cmodel&every=day&from=2025-03-01T00%3A00%3A00Z&to=2025-03-02T00%3A00%3A00Z"; got != want {
		t.Errorf("URL %s, want %s", got, want)
	}
}

func TestErrorAnswers(t *testing.T) {
	f := func(code int, body, want string) {
		t.Helper()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		base, _ := url.Parse(srv.URL)
		_, err := NewClient(base, srv.Client()).Summary(context.Background())
		if err == nil || err.Error() != want {
			t.Errorf("%d %q: got %v, want %s", code, body, err, want)
		}
	}
	f(400, `{"error":"parameter \"to\": required"}`, `scmon answered 400 on /api/v1/summary: parameter "to": required`)
	f(503, "scmon is not ready: loading the job store\n", "scmon answered 503 on /api/v1/summary: scmon is not ready: loading the job store")
	f(502, "", "scmon answered 502 on /api/v1/summary: Bad Gateway")
	f(500, strings.Repeat("x", 400), "scmon answered 500 on /api/v1/summary: "+strings.Repeat("x", 300)+"…")
	f(200, "<html>", "answer of /api/v1/summary: not scmon's JSON (is the URL that of `scmon serve`?): invalid character '<' looking for beginning of value")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"time":"` + strings.Repeat(" ", 100) + `"}`))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c := NewClient(base, srv.Client())
	c.maxBody = 64
	if _, err := c.Summary(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large answer: %v", err)
	}
}
