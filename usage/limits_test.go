package usage

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// TestMaxBuckets: the bound holds Buckets' real count on every period and
// zone, and a range from year 1 to 9999 (which a time.Duration saturates
// into 292 years) is bounded by its true length.
func TestMaxBuckets(t *testing.T) {
	lh, err := time.LoadLocation("Australia/Lord_Howe") // 30-minute DST shifts
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []*time.Location{time.UTC, lh} {
		for _, every := range []Period{Hour, Day, Week, Month} {
			from := time.Date(2025, 1, 3, 7, 0, 0, 0, loc)
			to := from.AddDate(1, 1, 0)
			b, err := Buckets(from, to, every, loc)
			if err != nil {
				t.Fatal(err)
			}
			if n := MaxBuckets(from, to, every); n < int64(len(b)) || n > int64(len(b))*2+2 {
				t.Errorf("%s %s: MaxBuckets %d, Buckets %d", loc, every, n, len(b))
			}
		}
	}
	from := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if n := MaxBuckets(from, to, Month); n < 9998*12 {
		t.Errorf("months from year 1 to 9999: bound %d, want at least %d", n, 9998*12)
	}
	if n := MaxBuckets(to, from, Day); n != 0 {
		t.Errorf("empty range: %d", n)
	}
}

// TestComputeMaxCells: a query whose groups times periods pass MaxCells is
// refused with ErrTooLarge, before buckets are made for a huge range and as
// soon as the groups pass the bound; within it, the answer is the
// unbounded one.
func TestComputeMaxCells(t *testing.T) {
	s := NewStore(nil)
	for i := range 50 {
		r := rec{id: fmt.Sprint(i), start: float64(i), end: float64(i + 48), cores: 1, nodes: 1, part: "p"}.record()
		r.User = fmt.Sprintf("user%02d", i)
		if err := s.Add(r, job.Decision{Class: job.ClassOther}); err != nil {
			t.Fatal(err)
		}
	}
	week := Query{From: t0, To: t0.AddDate(0, 0, 7), Every: Day, By: []Key{KeyUser}}
	for _, tc := range []struct {
		name string
		q    Query
		max  int
		ok   bool
	}{
		{"50 users x 7 days within 350", week, 350, true},
		{"50 users x 7 days over 349", week, 349, false},
		{"no bound", week, 0, true},
		{"months from year 1 to 9999", Query{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Every: Month}, 10_000, false},
		{"totals by user", Query{From: t0, To: t0.AddDate(0, 0, 7), By: []Key{KeyUser}}, 49, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.MaxCells = tc.max
			res, err := s.Compute(q)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Groups) != 50 || len(res.Groups[0].Series) != 7 {
					t.Errorf("%d groups of %d periods, want 50 of 7", len(res.Groups), len(res.Groups[0].Series))
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

// TestComputeCancelled: a query whose context has ended stops with the
// context's error.
func TestComputeCancelled(t *testing.T) {
	s := NewStore(nil)
	for i := range 3 * cancelEvery {
		if err := s.Add(rec{id: fmt.Sprint(i), start: 1, end: 2, cores: 1, nodes: 1, part: "p"}.record(), job.Decision{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ComputeContext(ctx, Query{From: t0, To: at(3)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled query: %v, want context.Canceled", err)
	}
	res, err := s.ComputeContext(context.Background(), Query{From: t0, To: at(3)})
	if err != nil || res.Allocated.Total().CoreSeconds != 3*cancelEvery*3600 {
		t.Errorf("live query: %v, %v", err, res)
	}
}

// BenchmarkHostileQuery: over a million jobs, the queries that once
// exhausted the daemon's memory are refused at MaxCells 20,000 (the API's
// bound) after bounded work: by user, daily over the month (3,000 users x
// 30 days), and by account, hourly.
func BenchmarkHostileQuery(b *testing.B) {
	s := NewStore(nil)
	for i, r := range synthetic(1_000_000) {
		if err := s.Add(r, decisions[i%4]); err != nil {
			b.Fatal(err)
		}
	}
	s.Seal()
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []struct {
		name  string
		by    []Key
		every Period
	}{{"by-user-daily", []Key{KeyUser}, Day}, {"by-account-hourly", []Key{KeyAccount}, Hour}} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := s.Compute(Query{From: from, To: from.AddDate(0, 0, 30), By: q.by, Every: q.every, MaxCells: 20_000})
				if !errors.Is(err, ErrTooLarge) {
					b.Fatalf("err = %v, want ErrTooLarge", err)
				}
			}
		})
	}
}
