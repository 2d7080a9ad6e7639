package collector

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSacctEligible checks that Eligible is read when the column is there,
// left unknown for "Unknown" (a held job) and for a column that is absent,
// and that a value that does not parse is noted without skipping the line.
func TestSacctEligible(t *testing.T) {
	const head = "JobID|Partition|Submit|Eligible|Start|End|State|NCPUS|NNodes\n"
	in := head +
		"1|cpu|2026-03-01T08:00:00|2026-03-01T08:05:00|2026-03-01T09:00:00|2026-03-01T10:00:00|COMPLETED|4|1\n" +
		"2|cpu|2026-03-01T08:00:00|Unknown|Unknown|Unknown|PENDING|4|1\n" +
		"3|cpu|2026-03-01T08:00:00|yesterday|2026-03-01T09:00:00|2026-03-01T10:00:00|COMPLETED|4|1\n"
	r := NewSacctReader(strings.NewReader(in), Options{Name: "t", Location: time.UTC})
	want := []time.Time{time.Date(2026, 3, 1, 8, 5, 0, 0, time.UTC), {}, {}}
	for i, w := range want {
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if !rec.Eligible.Equal(w) {
			t.Errorf("record %d: eligible %v, want %v", i+1, rec.Eligible, w)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if n := r.Notes()["bad_eligible"]; n != 1 {
		t.Errorf("bad_eligible noted %d times, want 1", n)
	}

	r = NewSacctReader(strings.NewReader("JobID|Submit|Start|End|State|NCPUS\n4|2026-03-01T08:00:00|2026-03-01T09:00:00|2026-03-01T10:00:00|COMPLETED|4\n"), Options{Name: "t"})
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Eligible.IsZero() {
		t.Errorf("no Eligible column: eligible %v, want zero", rec.Eligible)
	}
}
