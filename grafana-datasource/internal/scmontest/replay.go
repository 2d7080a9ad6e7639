// Package scmontest gives the plugin's tests an scmon to talk to: a
// replay server answering from exchanges recorded off a real `scmon
// serve`, a recorder that writes them, the query cases the tests run, and
// a real `scmon serve` built from the parent module.
package scmontest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Exchange is one recorded request to scmon and its answer.
type Exchange struct {
	// Request is the path and the sorted query string.
	Request     string `json:"request"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	// Body holds a JSON answer as it came, Text any other answer.
	Body json.RawMessage `json:"body,omitempty"`
	Text string          `json:"text,omitempty"`
}

// RequestKey is the canonical form of a request's path and query, under
// which an exchange is recorded and found.
func RequestKey(u *url.URL) string {
	q := u.Query().Encode()
	if q == "" {
		return u.Path
	}
	return u.Path + "?" + q
}

// fileName names the file of an exchange after its endpoint and a hash of
// the request, so that re-recording the same request replaces it.
func fileName(key string) string {
	path, _, _ := strings.Cut(key, "?")
	base := path[strings.LastIndexByte(path, '/')+1:]
	sum := sha1.Sum([]byte(key))
	return base + "-" + hex.EncodeToString(sum[:4]) + ".json"
}

// Replay is an httptest server answering scmon's API from recorded
// exchanges. A request without a recording is answered 404 and fails the
// test, so that a plugin change that alters its requests is seen.
type Replay struct {
	URL string

	t         testing.TB
	exchanges map[string]Exchange
	mu        sync.Mutex
	requests  []*http.Request
}

// NewReplay serves the exchanges recorded in dir until the test ends.
func NewReplay(t testing.TB, dir string) *Replay {
	t.Helper()
	r := &Replay{t: t, exchanges: map[string]Exchange{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded exchanges in %s (record them with -record): %v", dir, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e Exchange
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		r.exchanges[e.Request] = e
	}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Replay) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Clone(req.Context()))
	r.mu.Unlock()
	key := RequestKey(req.URL)
	e, ok := r.exchanges[key]
	if !ok {
		r.t.Errorf("replay: no recorded answer for %s (re-record with -record)", key)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"error\":%q}\n", "no recorded answer for "+key)
		return
	}
	w.Header().Set("Content-Type", e.ContentType)
	w.WriteHeader(e.Status)
	if len(e.Body) > 0 {
		_, _ = w.Write(e.Body)
		return
	}
	_, _ = io.WriteString(w, e.Text)
}

// Requests returns the requests served so far.
func (r *Replay) Requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.requests...)
}

// Recorder is an http.RoundTripper that writes every exchange it passes
// to a directory, one file per distinct request.
type Recorder struct {
	Next http.RoundTripper
	Dir  string

	mu    sync.Mutex
	saved map[string]bool
}

// RoundTrip passes req on and records the answer.
func (rec *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rec.Next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	key := RequestKey(req.URL)
	e := Exchange{Request: key, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	var compact bytes.Buffer
	if strings.HasPrefix(e.ContentType, "application/json") && json.Compact(&compact, body) == nil {
		e.Body = compact.Bytes()
	} else {
		e.Text = string(body)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.saved == nil {
		rec.saved = map[string]bool{}
	}
	if err := os.WriteFile(filepath.Join(rec.Dir, fileName(key)), append(raw, '\n'), 0o644); err != nil {
		return nil, err
	}
	rec.saved[key] = true
	return resp, nil
}

// Saved returns the requests recorded, sorted.
func (rec *Recorder) Saved() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, 0, len(rec.saved))
	for k := range rec.saved {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
