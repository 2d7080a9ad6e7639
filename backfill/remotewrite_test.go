package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// rwSeries is a decoded TimeSeries.
type rwSeries struct {
	labels  []Label
	samples [][2]float64 // timestamp in ms, value
}

// decodeWriteRequest decodes a remote-write 1.0 body field by field,
// independently of the encoder.
func decodeWriteRequest(body []byte) ([]rwSeries, error) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var out []rwSeries
	err = fields(raw, func(num protowire.Number, v []byte, _ uint64) error {
		if num != 1 {
			return fmt.Errorf("WriteRequest field %d", num)
		}
		var s rwSeries
		err := fields(v, func(num protowire.Number, v []byte, _ uint64) error {
			switch num {
			case 1:
				var l Label
				err := fields(v, func(num protowire.Number, v []byte, _ uint64) error {
					if num == 1 {
						l.Name = string(v)
					} else {
						l.Value = string(v)
					}
					return nil
				})
				s.labels = append(s.labels, l)
				return err
			case 2:
				var smp [2]float64
				err := fields(v, func(num protowire.Number, _ []byte, x uint64) error {
					if num == 1 {
						smp[1] = math.Float64frombits(x)
					} else {
						smp[0] = float64(int64(x))
					}
					return nil
				})
				s.samples = append(s.samples, smp)
				return err
			}
			return fmt.Errorf("TimeSeries field %d", num)
		})
		out = append(out, s)
		return err
	})
	return out, err
}

// fields calls fn for each field of a message: bytes fields get v, varint
// and fixed64 fields get x.
func fields(b []byte, fn func(num protowire.Number, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			return fmt.Errorf("wire type %d", typ)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, v, x); err != nil {
			return err
		}
	}
	return nil
}

// receiver is a fake remote-write endpoint: it answers with the statuses
// of fail first, then 204, and keeps what it accepted.
type receiver struct {
	mu       sync.Mutex
	fail     []int
	calls    int
	series   map[string][][2]float64
	requests [][]rwSeries
	headers  []http.Header
	errs     []error
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.headers = append(r.headers, req.Header.Clone())
	if len(r.fail) > 0 {
		code := r.fail[0]
		r.fail = r.fail[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		http.Error(w, fmt.Sprintf("refused with %d", code), code)
		return
	}
	body, _ := io.ReadAll(req.Body)
	ss, err := decodeWriteRequest(body)
	if err != nil {
		r.errs = append(r.errs, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.requests = append(r.requests, ss)
	for _, s := range ss {
		parts := make([]string, len(s.labels))
		for i, l := range s.labels {
			parts[i] = l.Name + "=" + l.Value
		}
		k := strings.Join(parts, ",")
		r.series[k] = append(r.series[k], s.samples...)
	}
	w.WriteHeader(http.StatusNoContent)
}

func newReceiver(fail ...int) (*receiver, *httptest.Server) {
	r := &receiver{fail: fail, series: map[string][][2]float64{}}
	return r, httptest.NewServer(r)
}

// fastRetries are remote-write options that retry at once.
func fastRetries(url string) RemoteWriteOptions {
	return RemoteWriteOptions{URL: url, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
}

// TestRemoteWriteEncoding: what a receiver decodes is exactly the
// Generator's samples, labels sorted with __name__ first, at most Batch
// samples a request, each series in time order, with the protocol's
// headers and the caller's.
func TestRemoteWriteEncoding(t *testing.T) {
	d := sample(t)
	from := d.to.Add(-12 * time.Hour)
	opts := Options{From: from, To: d.to, Step: 5 * time.Minute, Inventory: d.inv, Labels: []Label{{"job", "scmon"}}, ChunkSteps: 50}
	g, err := New(d.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := collect(t, g)
	g.Reset()
	rcv, srv := newReceiver()
	defer srv.Close()
	o := fastRetries(srv.URL + "/api/v1/write")
	o.Batch = 1000
	o.Header = http.Header{"X-Scope-Orgid": {"center-a"}, "User-Agent": {"custom"}}
	st, err := WriteRemote(context.Background(), g, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Samples != g.Samples() || st.Series != len(g.Series()) || st.Requests != len(rcv.requests) || st.Retries != 0 {
		t.Errorf("stats %+v, %d requests, %d samples generated", st, len(rcv.requests), g.Samples())
	}
	if len(rcv.errs) > 0 {
		t.Fatalf("receiver: %v", rcv.errs)
	}
	for _, h := range rcv.headers {
		if h.Get("Content-Encoding") != "snappy" || h.Get("Content-Type") != "application/x-protobuf" ||
			h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" || h.Get("X-Scope-OrgID") != "center-a" || h.Get("User-Agent") != "custom" {
			t.Fatalf("headers %v", h)
		}
	}
	for i, req := range rcv.requests {
		n := 0
		for _, s := range req {
			n += len(s.samples)
			if s.labels[0].Name != "__name__" || !slices.IsSortedFunc(s.labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) }) {
				t.Fatalf("request %d: labels %v", i, s.labels)
			}
		}
		if n > o.Batch {
			t.Errorf("request %d: %d samples", i, n)
		}
	}
	// Every series arrives whole, in time order, with the generated values.
	if len(rcv.series) != len(want) {
		t.Fatalf("%d series received, %d generated", len(rcv.series), len(want))
	}
	for s := range g.Series() {
		sr := g.Series()[s]
		fam := g.Families()[sr.Family]
		parts := []string{"__name__=" + fam.Name}
		for i, n := range fam.Labels {
			parts = append(parts, n+"="+sr.Values[i])
		}
		parts = append(parts, "job=scmon")
		slices.Sort(parts[1:])
		got := rcv.series[strings.Join(parts, ",")]
		w := want[seriesName(g, s)]
		if len(got) != len(w) {
			t.Fatalf("%v: %d samples received, %d generated", parts, len(got), len(w))
		}
		for i := range w {
			if ts := float64(from.Add(time.Duration(i) * 5 * time.Minute).UnixMilli()); got[i][0] != ts || got[i][1] != w[i] {
				t.Fatalf("%v sample %d: %v, want [%v %v]", parts, i, got[i], ts, w[i])
			}
		}
	}
}

// TestRemoteWriteBatchSmallerThanSeries: a batch below the series count
// splits each time slice over several requests.
func TestRemoteWriteBatchSmallerThanSeries(t *testing.T) {
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t)})
	if err != nil {
		t.Fatal(err)
	}
	rcv, srv := newReceiver()
	defer srv.Close()
	o := fastRetries(srv.URL)
	o.Batch = 10
	st, err := WriteRemote(context.Background(), g, o)
	if err != nil {
		t.Fatal(err)
	}
	// 53 series: 6 requests of at most 10 per sample time, 5 times.
	if st.Requests != 30 || st.Samples != 53*5 || len(rcv.series) != 53 {
		t.Errorf("stats %+v, %d series", st, len(rcv.series))
	}
}

// TestRemoteWriteRetries: 5xx and 429 answers are retried until the
// receiver accepts; nothing is lost or sent twice.
func TestRemoteWriteRetries(t *testing.T) {
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t)})
	if err != nil {
		t.Fatal(err)
	}
	rcv, srv := newReceiver(http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests)
	defer srv.Close()
	st, err := WriteRemote(context.Background(), g, fastRetries(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if st.Retries != 3 || st.Requests != 1 || rcv.calls != 4 || len(rcv.requests) != 1 || st.Samples != 53*5 {
		t.Errorf("stats %+v, %d calls, %d accepted", st, rcv.calls, len(rcv.requests))
	}
	for k, v := range rcv.series {
		if len(v) != 5 {
			t.Errorf("%s: %d samples", k, len(v))
		}
	}
}

// TestRemoteWriteClientError: a 4xx other than 429 stops at once with the
// receiver's message, and the usual cause of a refusal of history is
// explained.
func TestRemoteWriteClientError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "out of bounds", http.StatusBadRequest)
	}))
	defer srv.Close()
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	st, err := WriteRemote(context.Background(), g, fastRetries(srv.URL))
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 400 || he.Body != "out of bounds" {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(err.Error(), "out_of_order_time_window") || calls.Load() != 1 || st.Requests != 0 || st.Retries != 0 {
		t.Errorf("error %q after %d calls, stats %+v", err, calls.Load(), st)
	}
}

// TestRemoteWriteGivesUp: a receiver that keeps failing gets Retries+1
// attempts, then the run fails naming the last answer.
func TestRemoteWriteGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "overloaded", http.StatusBadGateway)
	}))
	defer srv.Close()
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	o := fastRetries(srv.URL)
	o.Retries = 3
	_, err = WriteRemote(context.Background(), g, o)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || !strings.Contains(err.Error(), "giving up after 4 attempts") || calls.Load() != 4 {
		t.Errorf("error %v after %d calls", err, calls.Load())
	}
}

// TestRemoteWriteNetworkError: an unreachable receiver is retried, then
// reported; a cancelled context stops the backoff at once.
func TestRemoteWriteNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	o := fastRetries(url)
	o.Retries = 2
	st, err := WriteRemote(context.Background(), g, o)
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") || st.Retries != 2 {
		t.Errorf("error %v, stats %+v", err, st)
	}

	g.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	o = RemoteWriteOptions{URL: url, MinBackoff: time.Hour}
	time.AfterFunc(50*time.Millisecond, cancel)
	began := time.Now()
	if _, err := WriteRemote(ctx, g, o); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

func TestRemoteWriteBadURL(t *testing.T) {
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRemote(context.Background(), g, RemoteWriteOptions{URL: "prometheus:9090"}); err == nil || !strings.Contains(err.Error(), "want http://") {
		t.Errorf("error %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-2": 0, "junk": 0, "999": time.Minute} {
		if got := parseRetryAfter(v, time.Minute); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}
