package ingest

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/internal/setup"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

// records is a reader of a slice of records.
type records []*job.Record

func (r *records) Next() (*job.Record, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}

// classes records what an Observer is told, by store index.
type classes struct {
	seen    map[uint32]string // job id
	decided map[uint32]classify.Class
}

func (c *classes) ObserveAt(i uint32, rec *job.Record, d classify.Decision) {
	c.seen[i], c.decided[i] = rec.JobID, d.Class
}
func (c *classes) Decide(i uint32, d classify.Decision) { c.decided[i] = d.Class }

// TestDeferredEqualsHeldBatch: Deferred, which stores records as read and
// keeps only a tally, leaves the store as holding every record, classifying
// them with ClassifyBatch (pending ones alone) and adding them in order
// does: same jobs, classes, rules and counts, on the built-in sample and
// on records that repeat a run, pend, and are refused by the store.
func TestDeferredEqualsHeldBatch(t *testing.T) {
	inv, err := setup.SampleInventory()
	if err != nil {
		t.Fatal(err)
	}
	table, err := setup.Table(inv)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := setup.Rules("", inv)
	if err != nil {
		t.Fatal(err)
	}
	c := classify.New(rules, classify.Options{Accel: table})
	zr, err := collector.MaybeGzip(bytes.NewReader(seeds.SacctLog()))
	if err != nil {
		t.Fatal(err)
	}
	sr := collector.NewSacctReader(zr, collector.Options{Name: "sample", Location: seeds.Location(), Cluster: seeds.ClusterName})
	var sample []*job.Record
	for {
		rec, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sample = append(sample, rec)
	}
	t0 := time.Date(2026, 10, 3, 8, 0, 0, 0, time.UTC)
	train := func(id string, start time.Time, end time.Duration, st job.State) *job.Record {
		r := &job.Record{Source: "x", Line: len(id), Cluster: seeds.ClusterName, JobID: id, Account: "lab", User: "u", Partition: "gpu",
			Name: "pretrain", State: st, Submit: t0, Start: start, Cores: 16, Nodes: 1,
			Accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 8}},
			Steps:  []job.Step{{Name: "train", Command: "torchrun pretrain_gpt.py"}}}
		if end > 0 {
			r.End = start.Add(end)
		}
		return r
	}
	odd := train("9", t0, time.Hour, job.StateCompleted)
	odd.Name, odd.Steps = "exp", []job.Step{{Name: "x", Command: "bash go.sh"}}
	late := train("8", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 0, job.StateRunning) // outside the store's times
	edge := []*job.Record{
		train("1", t0, 0, job.StateRunning), train("2", t0, time.Hour, job.StateCompleted), train("3", t0, 2*time.Hour, job.StateCompleted),
		train("1", t0, 3*time.Hour, job.StateCompleted), // the same run, ended: replaces the first
		odd, late,
		train("4", time.Time{}, 0, job.StatePending),
		train("4", time.Time{}, 0, job.StateCancelled), // the same pending job, cancelled: replaces it
		train("5", time.Time{}, 0, job.StateCancelled),
		train("5", time.Time{}, 0, job.StatePending),
	}
	for _, tc := range []struct {
		name string
		recs []*job.Record
	}{{"sample", sample}, {"edge cases", edge}, {"sample and edge cases", append(slices.Clone(sample), edge...)}} {
		t.Run(tc.name, func(t *testing.T) {
			// The reference: every record held, classified at once, added
			// in order.
			want := usage.NewStore(table)
			var held []*job.Record
			for _, r := range tc.recs {
				if r.State != job.StatePending {
					held = append(held, r)
				}
			}
			batch := c.ClassifyBatch(held)
			k, refused := 0, 0
			for _, r := range tc.recs {
				d := c.Classify(r)
				if r.State != job.StatePending {
					d = batch[k]
					k++
				}
				if err := want.Add(r, d); err != nil {
					refused++
				}
			}
			got := usage.NewStore(table)
			obs := &classes{seen: map[uint32]string{}, decided: map[uint32]classify.Class{}}
			def := &Deferred{}
			rr := records(slices.Clone(tc.recs))
			st, err := LoadReader(got, &rr, Input{Format: "test", Path: "x"}, Options{Classifier: c, Defer: def, Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			if err := def.Flush(got, c, false); err != nil {
				t.Fatal(err)
			}
			if st.Records != int64(len(tc.recs)-refused) || st.Skipped[collector.ReasonRecord] != int64(refused) || len(st.Errors) != min(refused, MaxLogged) {
				t.Errorf("records %d skipped %v errors %q, want %d and %d refused", st.Records, st.Skipped, st.Errors, len(tc.recs)-refused, refused)
			}
			if got.Stats() != want.Stats() || got.Len() != want.Len() {
				t.Fatalf("stats %+v len %d, want %+v len %d", got.Stats(), got.Len(), want.Stats(), want.Len())
			}
			ai := 0
			for i := range want.Jobs() {
				g, w := got.Jobs()[i], want.Jobs()[i]
				gr, wr := got.Rules(&g), want.Rules(&w)
				g.Rules, w.Rules = 0, 0
				if g != w || !slices.Equal(gr, wr) || !slices.Equal(got.JobDevices(i), want.JobDevices(i)) {
					t.Errorf("job %d: %+v %v, want %+v %v", i, g, gr, w, wr)
				}
				if obs.decided[uint32(i)] != w.Class {
					t.Errorf("job %d: observer has %s, want %s", i, obs.decided[uint32(i)], w.Class)
				}
				if w.Class.IsAI() {
					ai++
				}
			}
			t.Logf("%d records, %d jobs, %d AI, %d refused", len(tc.recs), want.Len(), ai, refused)
			if len(obs.seen) != want.Len() || ai == 0 {
				t.Errorf("observer saw %d jobs of %d; %d AI", len(obs.seen), want.Len(), ai)
			}
			if refused > 0 && tc.name == "edge cases" {
				def := &Deferred{}
				rr := records(slices.Clone(tc.recs))
				s := usage.NewStore(table)
				if _, err := LoadReader(s, &rr, Input{}, Options{Classifier: c, Defer: def, Strict: true}); err != nil {
					t.Fatal(err)
				}
				if err := def.Flush(s, c, true); err == nil || !strings.Contains(err.Error(), "strict mode: x:1: time 2200") {
					t.Errorf("strict flush: %v", err)
				}
			}
		})
	}
}
