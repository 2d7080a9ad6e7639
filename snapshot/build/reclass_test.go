package build_test

import (
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
	"github.com/scmon/scmon/usage"
)

// TestClassChangeKeepsCountedSeconds: a job counted while running as
// unknown and decided other when it ends keeps the seconds already
// published under unknown (a counter cannot go down), and only the seconds
// after them go to other: no series decreases and the sum over classes is
// the job's core-seconds, not more.
func TestClassChangeKeepsCountedSeconds(t *testing.T) {
	inv, table := sampleCenter(t)
	t0 := time.Date(2026, 10, 20, 3, 0, 0, 0, time.UTC)
	start, end := t0.Add(10*time.Minute), t0.Add(70*time.Minute)
	rec := func(ended bool) *job.Record {
		r := &job.Record{JobID: "42", Cluster: "sample", Partition: "cpu", User: "carol", Account: "a1",
			State: job.StateRunning, Submit: t0, Start: start, Cores: 4, Nodes: 1, NodeList: "cn0001"}
		if ended {
			r.State, r.End = job.StateCompleted, end
		}
		return r
	}
	eng := usage.NewStore(table)
	b := build.New()
	publish := func(complete time.Time) *snapshot.Snapshot {
		t.Helper()
		s, err := b.Build(&build.Inputs{Now: complete, Complete: complete, Origin: start, Engine: eng, Inventory: inv,
			NodesAt: complete, DeviceOrigin: table.Origin})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cores := func(s *snapshot.Snapshot) map[string]float64 {
		out := map[string]float64{}
		for _, a := range s.Allocated {
			out[a.Class] += a.CoreSeconds
		}
		return out
	}
	// Seen running at start+20m, as unknown.
	if err := eng.Add(rec(false), classify.Decision{Class: job.ClassUnknown}); err != nil {
		t.Fatal(err)
	}
	first := cores(publish(start.Add(20 * time.Minute)))
	if first["unknown"] != 4*20*60 {
		t.Fatalf("after 20 minutes running: %v, want 4800 core-seconds unknown", first)
	}
	// Ended, and decided other.
	if err := eng.Add(rec(true), classify.Decision{Class: job.ClassOther}); err != nil {
		t.Fatal(err)
	}
	last := cores(publish(end.Add(time.Minute)))
	for class, v := range first {
		if last[class] < v {
			t.Errorf("class %s went down from %v to %v", class, v, last[class])
		}
	}
	if want := map[string]float64{"unknown": 4 * 20 * 60, "other": 4 * 40 * 60}; last["unknown"] != want["unknown"] || last["other"] != want["other"] {
		t.Errorf("core-seconds by class %v, want %v (the sum is the job's %v)", last, want, 4*60*60)
	}
}
