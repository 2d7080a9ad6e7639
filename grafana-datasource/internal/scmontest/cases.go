package scmontest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Case is one query the tests run: a file <name>.query.json next to its
// golden answer <name>.jsonc. Adding a case adds files, not code.
type Case struct {
	// Name is the file name without .query.json.
	Name string `json:"-"`
	// QueryType is the DataQuery's query type.
	QueryType string `json:"queryType"`
	// At is the plugin's clock while the case runs: ranges are cut there.
	At time.Time `json:"at"`
	// From and To are the panel's time range.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// IntervalMs and MaxDataPoints are what a panel of this range would
	// send.
	IntervalMs    int64 `json:"intervalMs"`
	MaxDataPoints int64 `json:"maxDataPoints"`
	// Model is the query's JSON, as the panel sends it.
	Model json.RawMessage `json:"model"`
}

const caseSuffix = ".query.json"

// LoadCases reads the cases of dir, in name order.
func LoadCases(t testing.TB, dir string) []Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+caseSuffix))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	var out []Case
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c Case
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.Name = strings.TrimSuffix(filepath.Base(f), caseSuffix)
		out = append(out, c)
	}
	return out
}

// Query returns the case as the DataQuery Grafana sends, with refId A.
func (c Case) Query() backend.DataQuery {
	return backend.DataQuery{
		RefID:         "A",
		QueryType:     c.QueryType,
		MaxDataPoints: c.MaxDataPoints,
		Interval:      time.Duration(c.IntervalMs) * time.Millisecond,
		TimeRange:     backend.TimeRange{From: c.From, To: c.To},
		JSON:          c.Model,
	}
}

// Shift moves the case's clock to at, keeping its range where it was
// relative to the clock: recording against a sample center that ends now
// needs ranges that end near now.
func (c Case) Shift(at time.Time) Case {
	d := at.Sub(c.At)
	c.At, c.From, c.To = at, c.From.Add(d).UTC(), c.To.Add(d).UTC()
	return c
}

// Save writes the case back to dir.
func (c Case) Save(dir string) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, c.Name+caseSuffix), append(raw, '\n'), 0o644)
}
