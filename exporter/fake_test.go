package exporter

import (
	"fmt"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/snapshot"
)

// fakeTime is the instant of the fake snapshots.
var fakeTime = time.Date(2026, 11, 2, 9, 30, 0, 250_000_000, time.UTC)

// fakeSnapshot returns a small but complete snapshot: two clusters, five
// partitions (one without accelerators, one that only the records name),
// four devices including two models of one kind in one partition, every
// class and state with some zeros left out on purpose, several accounts
// per label set, windows with a gap, and sources in every condition (up,
// down after failures, never succeeded, skipping lines).
func fakeSnapshot() *snapshot.Snapshot {
	gpuA := snapshot.AccelSeconds{Kind: "gpu", Model: "A100"}
	gpuH := snapshot.AccelSeconds{Kind: "gpu", Model: "H100"}
	npu := snapshot.AccelSeconds{Kind: "npu", Model: "Ascend 910B"}
	acc := func(d snapshot.AccelSeconds, x float64) snapshot.AccelSeconds { d.Seconds = x; return d }

	s := &snapshot.Snapshot{
		Time:     fakeTime,
		Complete: fakeTime.Add(-90 * time.Second),
		Clusters: []string{"east", "west"},
		Partitions: []snapshot.ClusterPartition{
			{Cluster: "east", Partition: "cpu"},
			{Cluster: "east", Partition: "gpu"},
			{Cluster: "west", Partition: "npu"},
			{Cluster: "west", Partition: "debug"},
		},
		Devices: []snapshot.Device{
			{Cluster: "east", Partition: "gpu", Kind: "gpu", Model: "A100"},
			{Cluster: "east", Partition: "gpu", Kind: "gpu", Model: "H100"},
			{Cluster: "west", Partition: "npu", Kind: "npu", Model: "Ascend 910B"},
			{Cluster: "west", Partition: "debug", Kind: "gpu", Model: "A100"},
		},
		Allocated: []snapshot.Allocated{
			{Cluster: "east", Partition: "cpu", Account: "physics", Class: "other", CoreSeconds: 3.6e6, NodeSeconds: 56250, BillingSeconds: 3.6e6},
			{Cluster: "east", Partition: "cpu", Account: "chem", Class: "other", CoreSeconds: 1.2e6, NodeSeconds: 18750, BillingSeconds: 1.2e6},
			{Cluster: "east", Partition: "cpu", Account: "physics", Class: "unknown", CoreSeconds: 7200, NodeSeconds: 3600, BillingSeconds: 7200},
			{Cluster: "east", Partition: "gpu", Account: "vision", Class: "ai_training", CoreSeconds: 9.6e5, NodeSeconds: 7200, BillingSeconds: 1.92e7,
				Accel: []snapshot.AccelSeconds{acc(gpuA, 28800), acc(gpuH, 86400)}},
			{Cluster: "east", Partition: "gpu", Account: "nlp", Class: "ai_training", CoreSeconds: 4.8e5, NodeSeconds: 3600, BillingSeconds: 9.6e6,
				Accel: []snapshot.AccelSeconds{acc(gpuH, 28800)}},
			{Cluster: "east", Partition: "gpu", Account: "nlp", Class: "ai_inference", CoreSeconds: 36000, NodeSeconds: 3600, BillingSeconds: 1.44e6,
				Accel: []snapshot.AccelSeconds{acc(gpuA, 3600)}},
			{Cluster: "west", Partition: "npu", Account: "", Class: "ai_training", CoreSeconds: 1.92e5, NodeSeconds: 1000, BillingSeconds: 1.92e5,
				Accel: []snapshot.AccelSeconds{acc(npu, 8000)}},
			// A partition only the records know (the inventory lost it).
			{Cluster: "west", Partition: "old", Account: "legacy", Class: "other", CoreSeconds: 500, NodeSeconds: 10, BillingSeconds: 500},
		},
		Running: []snapshot.Current{
			{Cluster: "east", Partition: "gpu", Class: "ai_training", Jobs: 2, Cores: 96, Accel: []snapshot.AccelSeconds{acc(gpuH, 12)}},
			{Cluster: "east", Partition: "cpu", Class: "other", Jobs: 5, Cores: 640},
			{Cluster: "west", Partition: "npu", Class: "ai_inference", Jobs: 1, Cores: 24, Accel: []snapshot.AccelSeconds{acc(npu, 1)}},
		},
		Pending: []snapshot.Current{
			{Cluster: "east", Partition: "gpu", Class: "ai_training", Jobs: 3, Cores: 192, Accel: []snapshot.AccelSeconds{acc(gpuA, 16)}},
			{Cluster: "east", Partition: "cpu", Class: "unknown", Jobs: 7, Cores: 7},
		},
		Windows: []snapshot.Window{
			{Cluster: "east", Resource: "cpu", Window: "1h", Utilization: 0.75, AIShare: 0.25, AIShareUpper: 0.3},
			{Cluster: "east", Resource: "accelerator", Window: "1h", Utilization: 0.5, AIShare: 1, AIShareUpper: 1},
			{Cluster: "east", Resource: "billing", Window: "1h", Utilization: 0.625, AIShare: 0.6, AIShareUpper: 0.65},
			{Cluster: "east", Resource: "cpu", Window: "24h", Utilization: 0.7, AIShare: 0.2, AIShareUpper: 0.25},
			{Cluster: "west", Resource: "cpu", Window: "1h", Utilization: 0.1, AIShare: 0.9, AIShareUpper: 0.95},
			// A duplicate: the first row wins.
			{Cluster: "west", Resource: "cpu", Window: "1h", Utilization: 0.99},
		},
		Sources: []snapshot.SourceHealth{
			{
				Name: "east-sacct", Kind: "sacct", Up: true,
				LastSuccess: fakeTime.Add(-30 * time.Second), LastRecord: fakeTime.Add(-95 * time.Second),
				Records:     map[string]float64{ResultStored: 1200, ResultDuplicate: 300, ResultSkippedPrefix + collector.ReasonTime: 2},
				PollSeconds: 12.5, PollCount: 50, Failures: 1, Lag: 90 * time.Second,
			},
			{
				Name: "west-pbs", Kind: "pbs", Up: false,
				LastSuccess: fakeTime.Add(-2 * time.Hour), LastRecord: fakeTime.Add(-3 * time.Hour),
				Records:     map[string]float64{ResultStored: 40, ResultSkippedPrefix + collector.ReasonFieldCount: 1},
				PollSeconds: 0.75, PollCount: 10, Failures: 4, LastError: "open /var/spool/pbs: permission denied", Lag: 2 * time.Hour,
			},
			// A source that never succeeded: zero times, no records.
			{Name: "east-nodes", Kind: "scontrol", Up: false, PollSeconds: 30, PollCount: 3, Failures: 3, LastError: "timeout"},
		},
		RuleHits: map[string]uint64{"train-torchrun": 40, "serve-vllm": 7, "hpc-names": 0},
		Config:   snapshot.ConfigState{LastReloadSuccess: true, LastReload: fakeTime.Add(-time.Hour), Hash: "abc"},
		// Nodes shared by jobs: east's occupancy is below its allocated
		// 92,700 node-seconds; west is left out and emitted as zero.
		Occupied:    []snapshot.Occupied{{Cluster: "east", NodeSeconds: 70000}},
		Quarantined: 1,
		// H100 has no origin entry: its series say unknown.
		Origins: []snapshot.DeviceOrigin{
			{Kind: "gpu", Model: "A100", Origin: "imported"},
			{Kind: "npu", Model: "Ascend 910B", Origin: "domestic"},
		},
		Friction: []snapshot.Friction{
			{Cluster: "east", Kind: "gpu", Model: "A100", Origin: "imported", Class: "ai_training", Outcome: "completed", Jobs: 9, RunSeconds: 90000},
			{Cluster: "east", Kind: "gpu", Model: "A100", Origin: "imported", Class: "ai_training", Outcome: "failed", Jobs: 1, RunSeconds: 600},
			{Cluster: "west", Kind: "npu", Model: "Ascend 910B", Origin: "domestic", Class: "ai_training", Outcome: "out_of_memory", Jobs: 3, RunSeconds: 240},
			{Cluster: "west", Kind: "npu", Model: "Ascend 910B", Origin: "domestic", Class: "ai_training", Outcome: "out_of_memory", Jobs: 1, RunSeconds: 60},
		},
	}
	// Capacity and node states: every state of east/gpu, some of the
	// others (the rest must come out as zeros).
	for i, st := range snapshot.States {
		f := float64(i + 1)
		s.Capacity = append(s.Capacity, snapshot.Capacity{
			Cluster: "east", Partition: "gpu", State: st, CoreSeconds: f * 1e6, BillingSeconds: f * 1e6 * 3,
			Accel: []snapshot.AccelSeconds{acc(gpuA, f*1e4), acc(gpuH, f*2e4)},
		})
		s.Nodes = append(s.Nodes, snapshot.NodeState{
			Cluster: "east", Partition: "gpu", State: st, Nodes: f, Cores: f * 48,
			Accel: []snapshot.AccelSeconds{acc(gpuA, f*4), acc(gpuH, f*4)},
		})
	}
	s.Capacity = append(s.Capacity,
		snapshot.Capacity{Cluster: "east", Partition: "cpu", State: snapshot.StateAllocated, CoreSeconds: 5e6, BillingSeconds: 5e6},
		snapshot.Capacity{Cluster: "east", Partition: "cpu", State: snapshot.StateIdle, CoreSeconds: 1e6, BillingSeconds: 1e6},
		snapshot.Capacity{Cluster: "west", Partition: "npu", State: snapshot.StateDrained, CoreSeconds: 4e5,
			Accel: []snapshot.AccelSeconds{acc(npu, 2e4)}},
	)
	s.Nodes = append(s.Nodes,
		snapshot.NodeState{Cluster: "east", Partition: "cpu", State: snapshot.StateAllocated, Nodes: 10, Cores: 640},
		snapshot.NodeState{Cluster: "west", Partition: "npu", State: snapshot.StateDown, Nodes: 1, Cores: 192,
			Accel: []snapshot.AccelSeconds{acc(npu, 8)}},
	)
	return s
}

// fakeClasses and the closed sets the tests check against.
var fakeClasses = []string{"ai_training", "ai_inference", "other", "unknown"}

// sizedSnapshot returns a snapshot of a realistic large site: clusters x
// partitions, each partition with devices accelerator models, every class
// allocated, running and pending, every state filled, and three accounts
// per (partition, class).
func sizedSnapshot(clusters, partitions, devices int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Time: fakeTime, RuleHits: map[string]uint64{}}
	for c := range clusters {
		cl := fmt.Sprintf("cluster%02d", c)
		s.Clusters = append(s.Clusters, cl)
		for p := range partitions {
			pa := fmt.Sprintf("part%02d", p)
			s.Partitions = append(s.Partitions, snapshot.ClusterPartition{Cluster: cl, Partition: pa})
			var accel []snapshot.AccelSeconds
			for d := range devices {
				dev := snapshot.Device{Cluster: cl, Partition: pa, Kind: []string{"gpu", "npu", "dcu"}[d%3], Model: fmt.Sprintf("M%d", d)}
				s.Devices = append(s.Devices, dev)
				accel = append(accel, snapshot.AccelSeconds{Kind: dev.Kind, Model: dev.Model, Seconds: float64(1000 * (d + 1))})
			}
			for i, class := range fakeClasses {
				for a := range 3 {
					s.Allocated = append(s.Allocated, snapshot.Allocated{
						Cluster: cl, Partition: pa, Account: fmt.Sprintf("acct%d", a), Class: class,
						CoreSeconds: float64(1e6 * (i + 1)), NodeSeconds: 1e4, BillingSeconds: 2e6, Accel: accel,
					})
				}
				cur := snapshot.Current{Cluster: cl, Partition: pa, Class: class, Jobs: 10, Cores: 400, Accel: accel}
				s.Running = append(s.Running, cur)
				s.Pending = append(s.Pending, cur)
			}
			for _, st := range snapshot.States {
				s.Capacity = append(s.Capacity, snapshot.Capacity{Cluster: cl, Partition: pa, State: st, CoreSeconds: 1e7, Accel: accel})
				s.Nodes = append(s.Nodes, snapshot.NodeState{Cluster: cl, Partition: pa, State: st, Nodes: 20, Cores: 1280, Accel: accel})
			}
		}
		for _, r := range snapshot.Resources {
			for _, w := range []string{"1h", "24h", "7d", "30d"} {
				s.Windows = append(s.Windows, snapshot.Window{Cluster: cl, Resource: r, Window: w, Utilization: 0.8, AIShare: 0.4, AIShareUpper: 0.5})
			}
		}
		s.Sources = append(s.Sources,
			snapshot.SourceHealth{Name: cl + "-sacct", Up: true, LastSuccess: fakeTime, Records: map[string]float64{ResultStored: 1e6}},
			snapshot.SourceHealth{Name: cl + "-nodes", Up: true, LastSuccess: fakeTime})
	}
	for r := range 60 {
		s.RuleHits[fmt.Sprintf("rule-%02d", r)] = uint64(r * 100)
	}
	return s
}
