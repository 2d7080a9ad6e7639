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

// TestReplacedNodesLeaveOccupancy: a job counted while running on two
// nodes whose ended record names one takes the other node's time back from
// the occupied node-seconds: they stay within the node-seconds charged,
// and equal the engine's occupancy of the whole time.
func TestReplacedNodesLeaveOccupancy(t *testing.T) {
	inv, table := sampleCenter(t)
	t0 := time.Date(2026, 10, 20, 3, 0, 0, 0, time.UTC)
	start, end := t0.Add(10*time.Minute), t0.Add(70*time.Minute)
	rec := func(id string, from, to time.Time, nodes int64, list string) *job.Record {
		r := &job.Record{JobID: id, Cluster: "sample", Partition: "cpu", User: "carol", Account: "a1",
			State: job.StateRunning, Submit: t0, Start: from, Cores: 4, Nodes: nodes, NodeList: list}
		if !to.IsZero() {
			r.State, r.End = job.StateCompleted, to
		}
		return r
	}
	eng := usage.NewStore(table)
	b := build.New()
	publish := func(complete time.Time) (occupied, charged float64) {
		t.Helper()
		s, err := b.Build(&build.Inputs{Now: complete, Complete: complete, Origin: start, Engine: eng, Inventory: inv,
			NodesAt: complete, DeviceOrigin: table.Origin})
		if err != nil {
			t.Fatal(err)
		}
		return sums(s)
	}
	dec := classify.Decision{Class: job.ClassOther}
	if err := eng.Add(rec("42", start, time.Time{}, 2, "cn[0001-0002]"), dec); err != nil {
		t.Fatal(err)
	}
	occ, ch := publish(start.Add(20 * time.Minute))
	if occ != 2*20*60 || ch != 2*20*60 {
		t.Fatalf("after 20 minutes on two nodes: occupied %v, charged %v node-seconds; want 2400 each", occ, ch)
	}
	// It ended after an hour, on one node only; a job ran on another node
	// after the last publish; one ran before it and was not seen then (a
	// record read late).
	for _, r := range []*job.Record{rec("42", start, end, 1, "cn0001"), rec("43", start.Add(30*time.Minute), end, 1, "cn0003"),
		rec("44", start.Add(5*time.Minute), start.Add(15*time.Minute), 1, "cn0004")} {
		if err := eng.Add(r, dec); err != nil {
			t.Fatal(err)
		}
	}
	complete := end.Add(time.Minute)
	occ, ch = publish(complete)
	want := float64(eng.Occupied(start, complete)["sample"])
	if want != 3600+1800+600 {
		t.Fatalf("the engine's occupancy %v; want 6000 node-seconds", want)
	}
	if occ != want || ch != want {
		t.Errorf("occupied %v, charged %v node-seconds; want %v each", occ, ch, want)
	}
}

func sums(s *snapshot.Snapshot) (occupied, charged float64) {
	for _, o := range s.Occupied {
		occupied += o.NodeSeconds
	}
	for _, a := range s.Allocated {
		charged += a.NodeSeconds
	}
	return occupied, charged
}
