package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// DefaultBatch is the default number of samples per remote-write request.
const DefaultBatch = 5000

// RemoteWriteOptions configure WriteRemote.
type RemoteWriteOptions struct {
	// URL is the receiver's endpoint, e.g. http://prometheus:9090/api/v1/write.
	URL string
	// Header is added to every request (authentication, a tenant header
	// such as X-Scope-OrgID); it may override the protocol's headers.
	Header http.Header
	// Batch is the largest number of samples per request (0: DefaultBatch).
	Batch int
	// Client sends the requests; nil means a client with a 60 s timeout.
	Client *http.Client
	// Retries is how many times a request is tried again after a network
	// error, a 5xx or a 429 (0: 10; negative: never).
	Retries int
	// MinBackoff is the wait before the first retry, doubled at each
	// further one up to MaxBackoff (0: 250 ms and 30 s). A Retry-After
	// header, when the receiver sends one, is waited instead, up to
	// MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// UserAgent names the sender (default "scmon-backfill").
	UserAgent string
	// Logger receives a warning for each retried request; nil discards.
	Logger *slog.Logger
}

// HTTPError is a receiver's refusal that retrying cannot fix: a 4xx other
// than 429, or the last answer when the retries ran out.
type HTTPError struct {
	URL        string
	StatusCode int
	Status     string
	// Body is the start of the receiver's answer, which says what it
	// disliked.
	Body string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("remote write to %s: %s", e.URL, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if hint := rejectHint(e.Body); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

// rejectHint explains the usual reason a receiver refuses history.
func rejectHint(body string) string {
	b := strings.ToLower(body)
	if strings.Contains(b, "out of bounds") || strings.Contains(b, "out of order") || strings.Contains(b, "too old") {
		return "the receiver refuses samples this old: enable out-of-order ingestion with a window longer than the age of --from " +
			"(Prometheus: storage.tsdb.out_of_order_time_window in its configuration file; Mimir: -ingester.out-of-order-time-window), " +
			"or backfill through OpenMetrics and promtool instead"
	}
	return ""
}

// WriteRemote sends every sample of g to a Prometheus remote-write
// receiver (remote write 1.0: a snappy-compressed protobuf WriteRequest per
// POST). Samples go oldest first: each request holds a time slice of all
// series (or of as many as fit), so that a receiver appending in time order
// sees every series advance together. A request that fails with a network
// error, a 5xx or a 429 is retried with exponential backoff; any other 4xx
// stops the run with an *HTTPError quoting the receiver. g must be at its
// start (new or Reset).
func WriteRemote(ctx context.Context, g *Generator, o RemoteWriteOptions) (Stats, error) {
	rw, err := newRemote(g, o)
	if err != nil {
		return Stats{}, err
	}
	for {
		c, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rw.st, err
		}
		if err := rw.chunk(ctx, c); err != nil {
			return rw.st, err
		}
	}
	rw.st.Series = len(g.Series())
	return rw.st, nil
}

// remote is one run of WriteRemote.
type remote struct {
	o      RemoteWriteOptions
	g      *Generator
	labels [][]byte // per series: its encoded Label fields
	raw    []byte   // request being encoded
	body   []byte   // compressed
	st     Stats
}

func newRemote(g *Generator, o RemoteWriteOptions) (*remote, error) {
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("remote write URL %q: want http:// or https://", o.URL)
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second}
	}
	switch {
	case o.Retries == 0:
		o.Retries = 10
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "scmon-backfill"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &remote{o: o, g: g}
	fams := g.Families()
	for _, s := range g.Series() {
		r.labels = append(r.labels, encodeLabels(&fams[s.Family], s.Values, g.Labels()))
	}
	return r, nil
}

// encodeLabels returns the Label fields of a TimeSeries message (field 1,
// each a Label{name = 1, value = 2}), sorted by name with __name__ first, as
// the protocol requires.
func encodeLabels(fam *Family, values []string, extra []Label) []byte {
	ls := []Label{{"__name__", fam.Name}}
	for i, n := range fam.Labels {
		ls = append(ls, Label{n, values[i]})
	}
	ls = append(ls, extra...)
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	var b []byte
	for _, l := range ls {
		size := protowire.SizeTag(1) + protowire.SizeBytes(len(l.Name)) + protowire.SizeTag(2) + protowire.SizeBytes(len(l.Value))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, l.Name)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, l.Value)
	}
	return b
}

// chunk sends one chunk: slices of consecutive samples of all series, as
// many samples per request as the batch allows.
func (r *remote) chunk(ctx context.Context, c *Chunk) error {
	ns := len(r.labels)
	if ns == 0 {
		return nil
	}
	steps := max(1, r.o.Batch/ns)
	for l0 := 0; l0 < c.Len; l0 += steps {
		l1 := min(l0+steps, c.Len)
		per := max(1, r.o.Batch/(l1-l0)) // series per request
		for s0 := 0; s0 < ns; s0 += per {
			s1 := min(s0+per, ns)
			r.encode(c, s0, s1, l0, l1)
			if err := r.send(ctx); err != nil {
				return err
			}
			r.st.Samples += int64((s1 - s0) * (l1 - l0))
		}
	}
	return nil
}

// encode builds the WriteRequest of series [s0, s1) over samples [l0, l1)
// of c into r.raw and compresses it into r.body.
func (r *remote) encode(c *Chunk, s0, s1, l0, l1 int) {
	b := r.raw[:0]
	for s := s0; s < s1; s++ {
		vals := c.Series(s)
		size := len(r.labels[s])
		for l := l0; l < l1; l++ {
			size += protowire.SizeTag(2) + protowire.SizeBytes(sampleSize(c.Time(l)*1000))
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType) // WriteRequest.timeseries
		b = protowire.AppendVarint(b, uint64(size))
		b = append(b, r.labels[s]...)
		for l := l0; l < l1; l++ {
			ms := c.Time(l) * 1000
			b = protowire.AppendTag(b, 2, protowire.BytesType) // TimeSeries.samples
			b = protowire.AppendVarint(b, uint64(sampleSize(ms)))
			b = protowire.AppendTag(b, 1, protowire.Fixed64Type) // Sample.value
			b = protowire.AppendFixed64(b, math.Float64bits(vals[l]))
			b = protowire.AppendTag(b, 2, protowire.VarintType) // Sample.timestamp
			b = protowire.AppendVarint(b, uint64(ms))
		}
	}
	r.raw = b
	r.body = snappy.Encode(r.body[:cap(r.body)], b)
}

// sampleSize is the encoded size of a Sample message.
func sampleSize(ms int64) int {
	return protowire.SizeTag(1) + protowire.SizeFixed64() + protowire.SizeTag(2) + protowire.SizeVarint(uint64(ms))
}

// send posts r.body, retrying what may succeed later.
func (r *remote) send(ctx context.Context) error {
	wait := r.o.MinBackoff
	for attempt := 0; ; attempt++ {
		retryAfter, err := r.post(ctx)
		if err == nil {
			r.st.Requests++
			r.st.Bytes += int64(len(r.body))
			return nil
		}
		var he *HTTPError
		retryable := !errors.As(err, &he) || he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests
		if !retryable || ctx.Err() != nil {
			return err
		}
		if attempt >= r.o.Retries {
			return fmt.Errorf("giving up after %d attempts: %w", attempt+1, err)
		}
		d := wait
		if retryAfter > 0 {
			d = retryAfter
		}
		r.st.Retries++
		r.o.Logger.Warn("remote write failed; retrying", "err", err, "attempt", attempt+1, "wait", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, r.o.MaxBackoff)
	}
}

// post makes one attempt. A refusal is an *HTTPError; retryAfter is the
// receiver's Retry-After, if any.
func (r *remote) post(ctx context.Context) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.o.URL, bytes.NewReader(r.body))
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("Content-Encoding", "snappy")
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("User-Agent", r.o.UserAgent)
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	for k, vs := range r.o.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	resp, err := r.o.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("remote write to %s: %w", r.o.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), r.o.MaxBackoff), &HTTPError{
		URL: r.o.URL, StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(msg)),
	}
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP
// date, at most limit; 0 when absent or unreadable.
func parseRetryAfter(v string, limit time.Duration) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if sec, err := strconv.Atoi(v); err == nil {
		d = time.Duration(sec) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), limit)
}
