package capacity

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
)

var t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func TestNodeSecondsWithChanges(t *testing.T) {
	g := &NodeGroup{Steps: []Step{{Nodes: 10}, {From: t0.Add(2 * time.Hour), Nodes: 4}, {From: t0.Add(3 * time.Hour), Nodes: 0}}}
	tests := []struct {
		from, to time.Duration
		want     int64
	}{
		{0, time.Hour, 10 * 3600},
		{time.Hour, 150 * time.Minute, 10*3600 + 4*1800},
		{0, 4 * time.Hour, 10*7200 + 4*3600},
		{3 * time.Hour, 5 * time.Hour, 0},
		{time.Hour, time.Hour, 0},
		{2 * time.Hour, time.Hour, 0},
	}
	for _, tt := range tests {
		if got := g.NodeSeconds(t0.Add(tt.from), t0.Add(tt.to)); got != tt.want {
			t.Errorf("NodeSeconds(+%s, +%s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
	if n := g.NodesAt(t0.Add(150 * time.Minute)); n != 4 {
		t.Errorf("NodesAt = %d", n)
	}
}

func TestWeights(t *testing.T) {
	w := Weights{"cpu": 1, "node": 2, "gres/gpu": 10, "gres/gpu:a100": 16}
	accels := []Accel{{GRESName: "gpu", GRESType: "a100", Count: 2}, {GRESName: "gpu", GRESType: "v100", Count: 1}}
	// 4 cores + 1 node x 2 + 2 A100 x 16 (the typed weight wins) + 1 V100 x 10.
	if got := w.Billing(4, 1, accels); got != 4+2+32+10 {
		t.Errorf("Billing = %v", got)
	}
	if !Weights(nil).Empty() || w.Empty() {
		t.Error("Empty")
	}
}

func TestResolveDeviceAndForced(t *testing.T) {
	a100 := accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "A100"}
	h100 := accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "H100"}
	one := &NodeGroup{Name: "one", Cores: 8, Accels: []Accel{{Device: a100, Count: 8}}, Steps: []Step{{Nodes: 1}}}
	two := &NodeGroup{Name: "two", Cores: 8, Accels: []Accel{{Device: h100, Count: 8}}, Steps: []Step{{Nodes: 1}}}
	inv := &Inventory{Clusters: []*Cluster{{Name: "c", NodeGroups: []*NodeGroup{one, two}, Partitions: []*Partition{
		{Name: "a100", NodeGroups: []*NodeGroup{one}, ForcedAccelerators: true},
		{Name: "mixed", NodeGroups: []*NodeGroup{one, two}},
	}}}}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	untyped := accel.Device{Kind: "gpu"}
	if got := inv.ResolveDevice("c", "a100", untyped); got != a100 {
		t.Errorf("one model: %+v", got)
	}
	if got := inv.ResolveDevice("c", "mixed", untyped); got != untyped {
		t.Errorf("two models stay unresolved: %+v", got)
	}
	if got := inv.ResolveDevice("c", "nope", untyped); got != untyped {
		t.Errorf("unknown partition: %+v", got)
	}
	if got := (*Inventory)(nil).ResolveDevice("c", "a100", untyped); got != untyped {
		t.Errorf("nil inventory: %+v", got)
	}
	if got := inv.ForcedPartitions(); !slices.Equal(got, []string{"a100"}) {
		t.Errorf("forced %v", got)
	}
	if (*Inventory)(nil).ForcedPartitions() != nil {
		t.Error("nil inventory has forced partitions")
	}
	// The shared group counts once in the cluster, billed as its first partition.
	if got := inv.Clusters[0].Total(t0, t0.Add(time.Hour)).CoreSeconds; got != 16*3600 {
		t.Errorf("cluster cores %d", got)
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		inv  *Inventory
		want string
	}{
		{&Inventory{Clusters: []*Cluster{{}}}, "a cluster has no name"},
		{&Inventory{Clusters: []*Cluster{{Name: "c"}, {Name: "c"}}}, `cluster "c" is listed twice`},
		{&Inventory{Clusters: []*Cluster{{Name: "c", Primary: "gold"}}}, `primary basis "gold"`},
		{&Inventory{Clusters: []*Cluster{{Name: "c", NodeGroups: []*NodeGroup{{Name: "g", Steps: []Step{{Nodes: -1}}}}}}}, "node count -1 is out of range"},
		{&Inventory{Clusters: []*Cluster{{Name: "c", NodeGroups: []*NodeGroup{{Name: "g", Cores: MaxNodeCores + 1, Steps: []Step{{Nodes: 1}}}}}}}, "cores 1048577 is out of range"},
		{&Inventory{Clusters: []*Cluster{{Name: "c", NodeGroups: []*NodeGroup{{Name: "g", Cores: 1, Accels: []Accel{{Device: accel.Device{Kind: "gpu"}, Count: -8}}, Steps: []Step{{Nodes: 1}}}}}}}, "gpu count -8 is out of range"},
		// 2^24 nodes of 2^20 cores would give 2^44 cores: a capacity that
		// overflows int64 over a few weeks.
		{&Inventory{Clusters: []*Cluster{{Name: "c", NodeGroups: []*NodeGroup{{Name: "g", Cores: MaxNodeCores, Steps: []Step{{Nodes: MaxGroupNodes}}}}}}}, "pass 1073741824"},
		{&Inventory{Clusters: []*Cluster{{Name: "c", DefaultWeights: Weights{"cpu": math.NaN()}}}}, "cluster c: billing weight cpu: NaN is not a billing weight"},
		{&Inventory{Clusters: []*Cluster{{Name: "c", Partitions: []*Partition{{Name: "p", Weights: Weights{"gres/gpu": math.Inf(1)}}}}}}, "partition p: billing weight gres/gpu: +Inf is not a billing weight"},
		{&Inventory{Clusters: []*Cluster{{Name: "c", Partitions: []*Partition{{Name: "p", Weights: Weights{"cpu": -1}}}}}}, "billing weight cpu: -1 is negative"},
	}
	for _, tt := range tests {
		err := tt.inv.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate: %v, want %q", err, tt.want)
		}
	}
}
