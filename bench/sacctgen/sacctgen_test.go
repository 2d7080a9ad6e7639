package sacctgen

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/scmon/scmon/collector"
)

// TestWrite reads a generated dump back: exactly n allocations, every run
// distinct (no two share a job id and start: a requeued job of the sample
// keeps its id), step lines only when asked for.
func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		n     int64
		steps bool
	}{{1, false}, {20000, true}, {20000, false}} {
		var buf bytes.Buffer
		copies, err := Write(&buf, tc.n, tc.steps)
		if err != nil {
			t.Fatal(err)
		}
		if want := (tc.n + 8754) / 8755; copies != want {
			t.Errorf("n=%d: %d copies, want %d", tc.n, copies, want)
		}
		r := collector.NewSacctReader(&buf, collector.Options{})
		ids := map[string]bool{}
		var steps int
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("n=%d: %v", tc.n, err)
			}
			if ids[rec.Key()] {
				t.Fatalf("n=%d: run %s twice", tc.n, rec.Key())
			}
			ids[rec.Key()] = true
			steps += len(rec.Steps)
		}
		if int64(len(ids)) != tc.n {
			t.Errorf("n=%d: read %d allocations", tc.n, len(ids))
		}
		if tc.steps != (steps > 0) {
			t.Errorf("n=%d steps=%v: %d steps read", tc.n, tc.steps, steps)
		}
	}
	if _, err := Write(io.Discard, 0, false); err == nil {
		t.Error("Write of 0 allocations: no error")
	}
}
