package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/scmon/scmon/api/v1"
	"github.com/scmon/scmon/report"
	"github.com/scmon/scmon/usage"
)

// heavyBackend is a fakeBackend whose grouped figures queries hold their
// slot until released or until their context ends, as a long computation
// does.
type heavyBackend struct {
	*fakeBackend
	started chan struct{}
	release chan struct{}
	stopped chan error
}

func (h *heavyBackend) Figures(ctx context.Context, q FiguresQuery) (*report.Report, error) {
	if len(q.By) > 0 {
		h.started <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			h.stopped <- ctx.Err()
			return nil, ctx.Err()
		}
	}
	return h.fakeBackend.Figures(ctx, q)
}

// TestHeavyQueriesDoNotStarve: while every API query slot is held by heavy
// queries and more wait, the status page (with its chart) and /metrics
// answer, over a real connection; a heavy query whose client goes away
// sees its context end.
func TestHeavyQueriesDoNotStarve(t *testing.T) {
	h := &heavyBackend{fakeBackend: newFake(), started: make(chan struct{}, 16), release: make(chan struct{}), stopped: make(chan error, 16)}
	s := newTestServer(t, h, Options{MaxQueries: 2})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	heavy := srv.URL + "/api/v1/figures?from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z&every=day&by=user"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 4)
	for range 4 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, heavy, nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
	}
	for range 2 {
		select {
		case <-h.started:
		case <-time.After(10 * time.Second):
			t.Fatal("heavy queries did not start")
		}
	}
	client := &http.Client{Timeout: 10 * time.Second} // a hang detector, not a speed check
	for _, p := range []string{"/", "/metrics", "/api/v1/summary", "/-/ready"} {
		res, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatalf("GET %s while the API is busy: %v", p, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s while the API is busy: %d", p, res.StatusCode)
		}
		if p == "/" && !strings.Contains(string(body), "<svg") {
			t.Errorf("status page without its chart while the API is busy")
		}
	}
	// The clients go away: the running queries see their context end.
	cancel()
	for range 2 {
		select {
		case err := <-h.stopped:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("heavy query stopped with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a heavy query did not see its client go away")
		}
	}
	for range 4 {
		<-done
	}
	close(h.release)
}

// seeds reads the query strings of a testdata file.
func seeds(f *testing.F, name string) {
	file, err := os.Open("testdata/queries/" + name)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
}

// fuzzCall serves one API request with any query string and checks what
// every answer must be: 200 or a 400 whose JSON error names a parameter,
// never a panic or a 500.
func fuzzCall(t *testing.T, s *Server, path, query string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL.Path, req.URL.RawQuery = path, query
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	body := rec.Body.String()
	switch rec.Code {
	case 200:
	case 400:
		var e apiv1.Error
		if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, "parameter ") {
			t.Fatalf("%s?%s: 400 without a parameter named: %s", path, query, body)
		}
	default:
		t.Fatalf("%s?%s: status %d: %s", path, query, rec.Code, body)
	}
	return rec.Code, body
}

// FuzzFiguresQuery: any query string of /api/v1/figures is answered 200 or
// 400; a query the parser accepts has a non-empty range and at most
// MaxPoints periods, so the work asked of the backend is bounded.
func FuzzFiguresQuery(f *testing.F) {
	seeds(f, "figures.txt")
	fake := newFake()
	s := New(fake, Options{Now: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		q, err := parseFigures(req)
		if err != nil {
			var pe *paramError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v names no parameter", query, err)
			}
			return
		}
		if !q.To.After(q.From) {
			t.Fatalf("%q: accepted an empty range %v..%v", query, q.From, q.To)
		}
		if n := usage.MaxBuckets(q.From, q.To, q.Every); n > MaxPoints {
			t.Fatalf("%q: accepted %d periods", query, n)
		}
		if len(q.By) > len(usage.Keys) {
			t.Fatalf("%q: %d grouping keys", query, len(q.By))
		}
		fuzzCall(t, s, "/api/v1/figures", query)
	})
}

// FuzzJobsQuery: any query string of /api/v1/jobs is answered 200 or 400;
// an accepted one has a limit in range, at most MaxFilterValues filter
// values and a non-empty range.
func FuzzJobsQuery(f *testing.F) {
	seeds(f, "jobs.txt")
	s := New(newFake(), Options{Now: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		q, err := parseJobs(req)
		if err != nil {
			var pe *paramError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v names no parameter", query, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxJobsLimit || q.Offset < 0 {
			t.Fatalf("%q: limit %d offset %d", query, q.Limit, q.Offset)
		}
		if n := len(q.Clusters) + len(q.Partitions) + len(q.Accounts) + len(q.Users) + len(q.Classes) + len(q.States); n > MaxFilterValues {
			t.Fatalf("%q: %d filter values", query, n)
		}
		if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
			t.Fatalf("%q: empty range", query)
		}
		fuzzCall(t, s, "/api/v1/jobs", query)
	})
}
