package daemon

import (
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
)

// TestNodeLedger: the interval between two polls is attributed to the
// states the first poll saw, node by node: a mixed GPU node (3 of 8 cores
// and 1 of 4 GPUs in use), a drained CPU node and a down one, each under
// its first partition, billed with that partition's weights.
func TestNodeLedger(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	gpu := collector.SlurmNode{Name: "g1", Cores: 8, CoresAllocated: 3, State: "mixed", Partitions: []string{"gpu", "debug"},
		Accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 4}}, AccelsInUse: []job.Accel{{Name: "gpu", Type: "a100", Count: 1}}}
	drained := collector.SlurmNode{Name: "c1", Cores: 4, State: "idle", Flags: []string{"drain"}, Partitions: []string{"cpu"}}
	down := collector.SlurmNode{Name: "c2", Cores: 4, State: "down", Partitions: []string{"cpu"}}
	l := newNodeLedger(accel.Default())
	weights := func(p string) capacity.Weights {
		if p == "gpu" {
			return capacity.Weights{"cpu": 1, "gres/gpu": 10}
		}
		return capacity.Weights{"cpu": 1}
	}
	nodes := []collector.SlurmNode{gpu, drained, down}
	l.observe("c", &source.NodeSnapshot{Time: t0, Nodes: nodes}, weights)
	l.observe("c", &source.NodeSnapshot{Time: t0.Add(10 * time.Second), Nodes: nodes}, weights)
	a100 := accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "A100"}
	want := map[capKey]capSum{
		{"c", "gpu", snapshot.StateAllocated}: {coreSeconds: 30, billingSeconds: 30 + 100, accel: map[accel.Device]float64{a100: 10}},
		{"c", "gpu", snapshot.StateIdle}:      {coreSeconds: 50, billingSeconds: 50 + 300, accel: map[accel.Device]float64{a100: 30}},
		{"c", "cpu", snapshot.StateAllocated}: {coreSeconds: 0, billingSeconds: 0, accel: map[accel.Device]float64{}},
		{"c", "cpu", snapshot.StateDrained}:   {coreSeconds: 40, billingSeconds: 40, accel: map[accel.Device]float64{}},
		{"c", "cpu", snapshot.StateDown}:      {coreSeconds: 40, billingSeconds: 40, accel: map[accel.Device]float64{}},
	}
	if len(l.sums) != len(want) {
		t.Errorf("%d series, want %d: %v", len(l.sums), len(want), l.sums)
	}
	for k, w := range want {
		got := l.sums[k]
		if got == nil || got.coreSeconds != w.coreSeconds || got.billingSeconds != w.billingSeconds || len(got.accel) != len(w.accel) || got.accel[a100] != w.accel[a100] {
			t.Errorf("%v = %+v, want %+v", k, got, w)
		}
	}
	// A gap longer than maxGap is not guessed at.
	l.observe("c", &source.NodeSnapshot{Time: t0.Add(time.Hour), Nodes: nodes}, weights)
	if got := l.sums[capKey{"c", "gpu", snapshot.StateIdle}].coreSeconds; got != 50 {
		t.Errorf("after a long gap: %v core-seconds", got)
	}
}
