package backfill

import (
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// twoJobs is the hand-computed case: on partition cpu, job A (4 cores, 1
// node, ai_training) from t0+30 to t0+150 and job B (2 cores, 1 node,
// other) from t0-60 to t0+90; on partition gpu, job C (1 core, 1 node, 2
// A100, unknown) from t0+100, still running. Samples at t0, t0+60, ...,
// t0+240. The history starts at t0-60 (job B's start).
func twoJobs(t testing.TB) *usage.Store {
	return smallStore(t,
		jobSpec{id: "A", partition: "cpu", class: classify.AITraining, cores: 4, nodes: 1, start: 30, end: 150},
		jobSpec{id: "B", partition: "cpu", class: classify.Other, cores: 2, nodes: 1, start: -60, end: 90},
		jobSpec{id: "C", partition: "gpu", class: classify.Unknown, cores: 1, nodes: 1, gpus: 2, start: 100, end: -1},
	)
}

func TestHandComputed(t *testing.T) {
	for _, chunk := range []int{0, 1, 2, 3, 5} {
		g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t), ChunkSteps: chunk})
		if err != nil {
			t.Fatal(err)
		}
		if g.Points() != 5 || !g.Origin().Equal(at(-60)) {
			t.Fatalf("points %d origin %s", g.Points(), g.Origin())
		}
		got := collect(t, g)
		zero := []float64{0, 0, 0, 0, 0}
		want := map[string][]float64{
			// Job A: 4 cores from +30 to +150.
			"scmon_allocated_core_seconds_total{c1,cpu,ai_training}": {0, 120, 360, 480, 480},
			"scmon_allocated_node_seconds_total{c1,cpu,ai_training}": {0, 30, 90, 120, 120},
			// Job B: 2 cores from -60 to +90 (the value at t0 is its past).
			"scmon_allocated_core_seconds_total{c1,cpu,other}":    {120, 240, 300, 300, 300},
			"scmon_allocated_billing_seconds_total{c1,cpu,other}": {120, 240, 300, 300, 300},
			"scmon_allocated_node_seconds_total{c1,cpu,other}":    {60, 120, 150, 150, 150},
			// Job C: 1 core and 2 GPUs from +100, running: billing 1 + 2 x 10
			// per second.
			"scmon_allocated_core_seconds_total{c1,gpu,unknown}":                              {0, 0, 20, 80, 140},
			"scmon_allocated_accelerator_seconds_total{c1,gpu,gpu,A100,imported,unknown}":     {0, 0, 40, 160, 280},
			"scmon_allocated_billing_seconds_total{c1,gpu,unknown}":                           {0, 0, 420, 1680, 2940},
			"scmon_allocated_accelerator_seconds_total{c1,gpu,gpu,A100,imported,ai_training}": zero,
			// Capacity from the history's start: 16 cores per partition.
			"scmon_capacity_core_seconds_total{c1,cpu,allocated}": {120, 360, 660, 780, 780},
			"scmon_capacity_core_seconds_total{c1,cpu,idle}":      {840, 1560, 2220, 3060, 4020},
			"scmon_capacity_core_seconds_total{c1,gpu,allocated}": {0, 0, 20, 80, 140},
			"scmon_capacity_core_seconds_total{c1,gpu,idle}":      {960, 1920, 2860, 3760, 4660},
			"scmon_capacity_core_seconds_total{c1,cpu,down}":      zero,
			"scmon_capacity_core_seconds_total{c1,gpu,planned}":   zero,
			// 4 A100 from the history's start.
			"scmon_capacity_accelerator_seconds_total{c1,gpu,gpu,A100,imported,allocated}": {0, 0, 40, 160, 280},
			"scmon_capacity_accelerator_seconds_total{c1,gpu,gpu,A100,imported,idle}":      {240, 480, 680, 800, 920},
			"scmon_capacity_accelerator_seconds_total{c1,gpu,gpu,A100,imported,drained}":   zero,
			// Billing capacity: cpu 16 cores x 1; gpu 16 cores x 1 + 4 A100 x 10.
			"scmon_capacity_billing_seconds_total{c1,cpu,allocated}": {120, 360, 660, 780, 780},
			"scmon_capacity_billing_seconds_total{c1,cpu,idle}":      {840, 1560, 2220, 3060, 4020},
			"scmon_capacity_billing_seconds_total{c1,gpu,allocated}": {0, 0, 420, 1680, 2940},
			"scmon_capacity_billing_seconds_total{c1,gpu,idle}":      {3360, 6720, 9660, 11760, 13860},
			"scmon_capacity_billing_seconds_total{c1,gpu,down}":      zero,
		}
		for k, w := range want {
			if !slices.Equal(got[k], w) {
				t.Errorf("chunk %d: %s = %v, want %v", chunk, k, got[k], w)
			}
		}
		// Closed sets: 2 partitions x 4 classes x 3 host families, 1 device
		// x 4 classes, 2 partitions x 5 states x 2 families, 1 device x 5
		// states.
		if n := len(g.Series()); n != 24+4+20+5 {
			t.Errorf("chunk %d: %d series, want 53", chunk, n)
		}
	}
}

// TestCapacityStatesSum: at every sample the states of a partition add up
// to its capacity since the start of the history, including a partition
// whose jobs ask more than it has (allocated is clamped, idle is 0).
func TestCapacityStatesSum(t *testing.T) {
	store := smallStore(t,
		// 20 cores on a 16-core partition from +0 to +120: oversubscribed.
		jobSpec{id: "big", partition: "cpu", class: classify.Other, cores: 20, nodes: 2, start: 0, end: 120},
		jobSpec{id: "small", partition: "cpu", class: classify.Other, cores: 4, nodes: 1, start: 90, end: 400},
		jobSpec{id: "gpu", partition: "gpu", class: classify.AIInference, cores: 2, nodes: 1, gpus: 4, start: 10, end: -1},
	)
	inv := smallInventory(t)
	g, err := New(store, Options{From: at(-120), To: at(600), Step: 30 * time.Second, Inventory: inv, ChunkSteps: 7})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, g)
	origin := g.Origin()
	for i := range g.Points() {
		ts := at(-120 + 30*i)
		for _, p := range inv.Clusters[0].Partitions {
			var sum float64
			for _, st := range []string{"allocated", "idle", "down", "drained", "planned"} {
				sum += got["scmon_capacity_core_seconds_total{c1,"+p.Name+","+st+"}"][i]
			}
			want := float64(0)
			if ts.After(origin) {
				want = float64(inv.Clusters[0].PartitionTotal(p, origin, ts).CoreSeconds)
			}
			if sum != want {
				t.Errorf("%s at %s: states sum to %v, capacity %v", p.Name, ts.Format(time.TimeOnly), sum, want)
			}
		}
	}
	// From +0 to +120 the cpu partition is fully allocated: 16 x 120.
	alloc := got["scmon_capacity_core_seconds_total{c1,cpu,allocated}"]
	if d := alloc[8] - alloc[4]; d != 16*120 {
		t.Errorf("allocated over the oversubscribed span %v, want %v", d, 16*120)
	}
	// The allocated counter itself is not clamped: 20 x 120 + 4 x 30.
	if v := got["scmon_allocated_core_seconds_total{c1,cpu,other}"][8]; v != 20*120+4*30 {
		t.Errorf("allocated core-seconds at +120: %v", v)
	}
	// The history starts at +0; all four A100 are held from +10: idle for
	// 10 s only.
	idle := got["scmon_capacity_accelerator_seconds_total{c1,gpu,gpu,A100,imported,idle}"]
	if idle[len(idle)-1] != idle[5] || idle[5] != 4*10 || idle[4] != 0 {
		t.Errorf("idle A100 seconds %v", idle)
	}
}

// TestCountersMonotone: every series of the sample center never decreases.
func TestCountersMonotone(t *testing.T) {
	d := sample(t)
	g, err := New(d.store, Options{From: d.from, To: d.to, Step: 10 * time.Minute, Inventory: d.inv})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range collect(t, g) {
		for i := 1; i < len(v); i++ {
			if v[i] < v[i-1] {
				t.Errorf("%s decreases at sample %d: %v then %v", name, i, v[i-1], v[i])
				break
			}
		}
	}
}

// TestAgainstUsageEngine: the increments between samples equal what the
// usage engine computes for each step window, exactly, for every
// allocated series of the sample center; the first value equals the
// engine's figure for everything before it. Hourly steps are checked
// against Compute's hourly buckets over the 30 days, 5-minute steps against
// one Compute per window over a day, and the capacity totals against the
// inventory.
func TestAgainstUsageEngine(t *testing.T) {
	d := sample(t)
	check := func(t *testing.T, step time.Duration, from, to time.Time, windows func(k int, a, b time.Time) (*usage.Result, *usage.Result)) {
		g, err := New(d.store, Options{From: from, To: to, Step: step, Inventory: d.inv, ChunkSteps: 100})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, g)
		compare := func(what string, k int, res, dres *usage.Result) {
			seen := map[string]bool{}
			for _, gr := range res.Groups {
				base := strings.Join(gr.Values, ",")
				tot := gr.Allocated.Total()
				for name, want := range map[string]float64{
					"scmon_allocated_core_seconds_total{" + base + "}":    float64(tot.CoreSeconds),
					"scmon_allocated_node_seconds_total{" + base + "}":    float64(tot.NodeSeconds),
					"scmon_allocated_billing_seconds_total{" + base + "}": tot.BillingSeconds,
				} {
					seen[name] = true
					v, ok := got[name]
					if !ok {
						t.Fatalf("%s: no series %s", what, name)
					}
					inc := v[k]
					if k > 0 {
						inc -= v[k-1]
					}
					if !closeEnough(inc, want, strings.Contains(name, "billing")) {
						t.Errorf("%s %d: %s increment %v, engine %v", what, k, name, inc, want)
					}
				}
			}
			for _, gr := range dres.Groups {
				n := len(gr.Values)
				if gr.Values[n-2] == "none" || gr.Values[n-2] == "unmapped" {
					continue
				}
				name := "scmon_allocated_accelerator_seconds_total{" + strings.Join([]string{gr.Values[0], gr.Values[1], gr.Values[3], gr.Values[4], g.originOf(gr.Values[3], gr.Values[4]), gr.Values[2]}, ",") + "}"
				v, ok := got[name]
				if !ok {
					t.Fatalf("%s: no series %s", what, name)
				}
				inc := v[k]
				if k > 0 {
					inc -= v[k-1]
				}
				if want := float64(gr.Allocated.Total().AccelSeconds); inc != want {
					t.Errorf("%s %d: %s increment %v, engine %v", what, k, name, inc, want)
				}
			}
		}
		// Everything before the first sample.
		by := []usage.Key{usage.KeyCluster, usage.KeyPartition, usage.KeyClass}
		dby := append(slices.Clone(by), usage.KeyKind, usage.KeyModel)
		res, err := d.store.Compute(usage.Query{From: time.Unix(1, 0), To: from, By: by, Inventory: d.inv})
		if err != nil {
			t.Fatal(err)
		}
		dres, err := d.store.Compute(usage.Query{From: time.Unix(1, 0), To: from, By: dby, Inventory: d.inv})
		if err != nil {
			t.Fatal(err)
		}
		compare("prefix", 0, res, dres)
		for k := 1; k < g.Points(); k++ {
			a := from.Add(time.Duration(k-1) * step)
			res, dres := windows(k, a, a.Add(step))
			compare("step", k, res, dres)
		}
		// Capacity: the cluster's states sum to the inventory's total.
		last := g.Points() - 1
		var sum float64
		for name, v := range got {
			if strings.HasPrefix(name, "scmon_capacity_core_seconds_total{") {
				sum += v[last]
			}
		}
		end := from.Add(time.Duration(last) * step)
		if want := float64(d.inv.Clusters[0].Total(g.Origin(), end).CoreSeconds); sum != want {
			t.Errorf("capacity core-seconds at %s sum to %v, inventory %v", end, sum, want)
		}
	}
	by := []usage.Key{usage.KeyCluster, usage.KeyPartition, usage.KeyClass}
	dby := append(slices.Clone(by), usage.KeyKind, usage.KeyModel)

	t.Run("hourly", func(t *testing.T) {
		res, err := d.store.Compute(usage.Query{From: d.from, To: d.to, By: by, Every: usage.Hour, Inventory: d.inv})
		if err != nil {
			t.Fatal(err)
		}
		dres, err := d.store.Compute(usage.Query{From: d.from, To: d.to, By: dby, Every: usage.Hour})
		if err != nil {
			t.Fatal(err)
		}
		bucket := func(r *usage.Result, k int) *usage.Result {
			out := &usage.Result{}
			for _, gr := range r.Groups {
				out.Groups = append(out.Groups, usage.Group{Values: gr.Values, Figures: gr.Series[k-1].Figures})
			}
			return out
		}
		check(t, time.Hour, d.from, d.to, func(k int, a, b time.Time) (*usage.Result, *usage.Result) {
			if !res.Groups[0].Series[k-1].From.Equal(a) {
				t.Fatalf("bucket %d starts %s, step %s", k-1, res.Groups[0].Series[k-1].From, a)
			}
			return bucket(res, k), bucket(dres, k)
		})
	})
	t.Run("5m", func(t *testing.T) {
		from := d.to.Add(-24 * time.Hour)
		check(t, 5*time.Minute, from, d.to, func(k int, a, b time.Time) (*usage.Result, *usage.Result) {
			res, err := d.store.Compute(usage.Query{From: a, To: b, By: by, Inventory: d.inv})
			if err != nil {
				t.Fatal(err)
			}
			dres, err := d.store.Compute(usage.Query{From: a, To: b, By: dby})
			if err != nil {
				t.Fatal(err)
			}
			return res, dres
		})
	})
}

// closeEnough compares exactly, or for billing units (fractional weights)
// to a relative 1e-12.
func closeEnough(got, want float64, approx bool) bool {
	if !approx {
		return got == want
	}
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func TestOptionsErrors(t *testing.T) {
	store := twoJobs(t)
	f := func(name string, o Options, want string) {
		t.Helper()
		_, err := New(store, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	f("step too short", Options{From: t0, To: at(60), Step: time.Millisecond}, "whole number of seconds")
	f("fractional step", Options{From: t0, To: at(60), Step: 1500 * time.Millisecond}, "whole number of seconds")
	f("to before from", Options{From: at(60), To: t0, Step: time.Second}, "is empty")
	f("too many points", Options{From: t0, To: t0.Add(5 * 365 * 24 * time.Hour), Step: time.Second}, "choose a longer step")
	f("reserved label", Options{From: t0, To: at(60), Step: time.Second, Labels: []Label{{"__name__", "x"}}}, "reserved")
	f("own label", Options{From: t0, To: at(60), Step: time.Second, Labels: []Label{{"cluster", "x"}}}, "already carry")
	f("bad label", Options{From: t0, To: at(60), Step: time.Second, Labels: []Label{{"a-b", "x"}}}, "not a valid label name")
	f("twice", Options{From: t0, To: at(60), Step: time.Second, Labels: []Label{{"job", "x"}, {"job", "y"}}}, "twice")
}

// TestReset: a second pass after Reset gives the same values.
func TestReset(t *testing.T) {
	g, err := New(twoJobs(t), Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t), ChunkSteps: 2})
	if err != nil {
		t.Fatal(err)
	}
	a := collect(t, g)
	if _, err := g.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v", err)
	}
	g.Reset()
	b := collect(t, g)
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			t.Errorf("%s: %v then %v", k, v, b[k])
		}
	}
}

// TestPendingNamesSeries: a job waiting at the end names its partition
// (the first of several) and the device it asks for, as the exporter's
// closed sets do; those series stay at zero.
func TestPendingNamesSeries(t *testing.T) {
	store := twoJobs(t)
	r := &job.Record{Cluster: "c1", JobID: "P", Partition: "debug,cpu", User: "u", Submit: at(200), State: job.StatePending,
		Cores: 8, Nodes: 1, Accels: []job.Accel{{Name: "gpu", Count: 1}}}
	if err := store.Add(r, classify.Decision{Class: classify.Unknown}); err != nil {
		t.Fatal(err)
	}
	g, err := New(store, Options{From: t0, To: at(240), Step: time.Minute, Inventory: smallInventory(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, g)
	for _, name := range []string{
		"scmon_allocated_core_seconds_total{c1,debug,unknown}",
		"scmon_allocated_accelerator_seconds_total{c1,debug,gpu,gpu (unspecified),unknown,ai_training}",
		"scmon_capacity_accelerator_seconds_total{c1,debug,gpu,gpu (unspecified),unknown,idle}",
		"scmon_capacity_core_seconds_total{c1,debug,idle}",
	} {
		v, ok := got[name]
		if !ok || !slices.Equal(v, []float64{0, 0, 0, 0, 0}) {
			t.Errorf("%s = %v (present %v), want zeros", name, v, ok)
		}
	}
	// Submitted after the last sample: not named.
	g, err = New(store, Options{From: t0, To: at(180), Step: time.Minute, Inventory: smallInventory(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := collect(t, g)["scmon_allocated_core_seconds_total{c1,debug,unknown}"]; ok {
		t.Error("a job submitted after the window names a series")
	}
}
