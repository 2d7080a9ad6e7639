package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/usage"
	"github.com/scmon/scmon/web"
)

// TestHostileQueries sends the daemon, over a real HTTP server on the
// built-in sample, the requests that once exhausted its memory or its
// store, and requires a 400 naming the limit for each; ordinary queries
// still answer.
func TestHostileQueries(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	srv := httptest.NewServer(web.New(d.WebBackend(), web.Options{}).Handler())
	defer srv.Close()
	end := d.Runtime().SampleEnd.UTC()
	month := "from=" + end.AddDate(0, 0, -30).Format(time.RFC3339) + "&to=" + end.Format(time.RFC3339)
	many := make([]string, 32_768)
	for i := range many {
		many[i] = "u" + strings.Repeat("x", i%7)
	}
	for _, tc := range []struct {
		name, target string
		code         int
		want         string
	}{
		{"months from year 1 to 9999 by user", "/api/v1/figures?from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z&every=month&by=user", 400, "more than 10000 periods"},
		{"hours by user and account over a month", "/api/v1/figures?" + month + "&every=hour&by=user,account", 400, "answer too large"},
		{"32k user filters", "/api/v1/jobs?user=" + url.QueryEscape(strings.Join(many, ",")), 400, "filter values"},
		{"days by user over a month", "/api/v1/figures?" + month + "&every=day&by=user", 200, ""},
		{"days by account over a month", "/api/v1/figures?" + month + "&every=day&by=account", 200, ""},
		{"jobs of 1000 users", "/api/v1/jobs?user=" + url.QueryEscape(strings.Join(many[:1000], ",")), 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			res, err := srv.Client().Get(srv.URL + tc.target)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%d in %v, %d bytes, %d MB allocated", res.StatusCode, took.Round(time.Millisecond), len(body), (after.TotalAlloc-before.TotalAlloc)>>20)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tc.code, body)
			}
			if strings.HasPrefix(tc.target, "/api/v1/figures") && res.StatusCode == 200 {
				var r struct {
					Groups []struct{ Series []json.RawMessage }
				}
				if err := json.Unmarshal(body, &r); err != nil || len(r.Groups) == 0 {
					t.Fatalf("figures answer without groups: %v", err)
				}
				cells := len(r.Groups) * len(r.Groups[0].Series)
				t.Logf("%d groups x %d periods: %d bytes per cell", len(r.Groups), len(r.Groups[0].Series), len(body)/cells)
			}
			if tc.want != "" {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tc.want) {
					t.Errorf("error %q does not say %q", e.Error, tc.want)
				}
			}
		})
	}
}

// TestFiguresStopWithTheClient: the request's context reaches the engine,
// so a query whose client went away (or whose time is up) stops and says
// why instead of computing for nobody.
func TestFiguresStopWithTheClient(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	end := d.Runtime().SampleEnd
	ctx, stop := context.WithCancel(context.Background())
	stop()
	q := web.FiguresQuery{From: end.AddDate(0, 0, -30), To: end, Every: usage.Day, By: []usage.Key{usage.KeyUser}}
	if _, err := d.WebBackend().Figures(ctx, q); !errors.Is(err, context.Canceled) || errors.Is(err, web.ErrInvalidQuery) {
		t.Errorf("figures for a client gone: %v, want context.Canceled (not an invalid query)", err)
	}
	if r, err := d.WebBackend().Figures(context.Background(), q); err != nil || len(r.Groups) == 0 {
		t.Errorf("figures: %v", err)
	}
}
