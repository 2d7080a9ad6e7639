package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/scmon/scmon/internal/testutil"
)

// prometheus is a real Prometheus started by scripts/testenv/prometheus-up.sh
// in a state directory of its own, on a free port, scraping one target
// every second.
type prometheus struct {
	t   testing.TB
	url string
}

// startPrometheus starts Prometheus scraping target (host:port) every
// second and waits for its first scrape (the script does); it is stopped
// and its state removed when the test ends.
func startPrometheus(t testing.TB, target string) *prometheus {
	t.Helper()
	return &prometheus{t: t, url: testutil.StartPrometheus(t, target, nil)}
}

// promSample is one series of an instant vector.
type promSample struct {
	Metric map[string]string
	Time   float64
	Value  float64
}

// query runs an instant query at time at (zero: now) and returns the
// vector; a failed request is returned as an error so that polls can
// retry.
func (p *prometheus) query(q string, at time.Time) ([]promSample, error) {
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, err := httpClient.Get(p.url + "/api/v1/query?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("query %q: %d: %v: %s", q, resp.StatusCode, err, b)
	}
	if resp.StatusCode != http.StatusOK || body.Status != "success" {
		return nil, fmt.Errorf("query %q: %d: %s", q, resp.StatusCode, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s, want vector", q, body.Data.ResultType)
	}
	out := make([]promSample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		ts, _ := r.Value[0].(float64)
		s, _ := r.Value[1].(string)
		val, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %q: %v", q, s, err)
		}
		out = append(out, promSample{Metric: r.Metric, Time: ts, Value: val})
	}
	return out, nil
}

// mustQuery runs an instant query at a fixed time or fails the test.
func (p *prometheus) mustQuery(q string, at time.Time) []promSample {
	p.t.Helper()
	res, err := p.query(q, at)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// byLabel returns a vector's values keyed by one label's value.
func byLabel(v []promSample, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range v {
		out[s.Metric[label]] += s.Value
	}
	return out
}
