// Package build turns what the daemon holds (the engine, the inventory,
// the node ledger's figures, the sources' health, the pending jobs with
// their decisions) into a snapshot.
//
// It takes no lock and imports neither the report's presentation nor the
// record parsers: the daemon gathers the inputs, calls Build while it
// holds its engine for reading, and swaps the result in. Build is
// incremental: the counters (the friction counters of the AI jobs'
// outcomes among them) advance by the allocations that arrived or changed
// since the last call and by the time that passed, the trailing
// windows come from the engine's per-hour prefix sums (usage.Ledger), and
// the idle split advances from the last complete time. A from-scratch
// Builder given the same records publishes the same figures.
//
// The counters are defined once (tally.go) and read two ways: a Builder
// advances them by what changed since its last call, and a Replay advances
// them over a finished history in time order, for `scmon backfill`. Both
// give the same values at the same instant.
package build

import (
	"cmp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// Window is a trailing window of the gauges.
type Window struct {
	Label  string
	Length time.Duration
}

// Pending is a job waiting to start, classified once when it arrived and
// resolved to its cluster, first partition and accelerator devices.
type Pending struct {
	Cluster, Partition string
	Account, User      string
	Class              classify.Class
	Submit, Eligible   time.Time
	Cores, Nodes       int64
	Devices            []DeviceCount
}

// DeviceCount is a number of one accelerator device.
type DeviceCount struct {
	Device accel.Device
	Count  int64
}

// Inputs is everything a snapshot is made of.
type Inputs struct {
	// Now is when the snapshot is built; Complete the instant up to which
	// every source delivered its records (never earlier than the last
	// call's); Origin the earliest start of the records.
	Now, Complete, Origin time.Time
	// Engine holds the allocations. Build reads it: the caller must keep
	// it from changing during the call. A different engine (rebuilt after
	// a reload) starts the counters' state afresh.
	Engine *usage.Store
	// Inventory gives capacity and billing weights (nil: none known).
	Inventory    *capacity.Inventory
	AccountLabel bool
	Windows      []Window
	// Pending are the jobs waiting now.
	Pending []Pending
	// NodeCapacity, when not nil, are the capacity counters from node
	// polls (they replace the inventory's); PolledNodes, when not nil, the
	// node states of the last node polls; NodesAt the instant the
	// inventory's node counts are read at otherwise.
	NodeCapacity []snapshot.Capacity
	PolledNodes  []snapshot.NodeState
	NodesAt      time.Time
	// Sources, Config and Quarantined are passed through.
	Sources     []snapshot.SourceHealth
	Config      snapshot.ConfigState
	Quarantined float64
	// DeviceOrigin gives an accelerator's origin label for the friction
	// counters (the accelerator table's Origin); nil: its vendor's.
	DeviceOrigin func(accel.Device) string
	// RuleHits turns the number of stored records per rule set (the
	// engine's index, see usage.Store.Rules) into hits per rule id; nil
	// leaves the snapshot's RuleHits empty.
	RuleHits func(perSet map[uint32]uint64) map[string]uint64
}

// Stage adds one part of a snapshot. Adding a metric family to the
// snapshot is adding one Stage (see Builder.Stages).
type Stage func(b *Builder, in *Inputs, s *snapshot.Snapshot) error

// Builder keeps what the counters, windows and idle split have reached
// between calls. Its methods serialize themselves.
type Builder struct {
	mu sync.Mutex
	// Stages run in order after the built-in ones.
	Stages []Stage

	labels    labelSets
	published map[string]float64
	c         *counters
	idle      *idleState
}

// New returns a builder with nothing counted.
func New() *Builder {
	return &Builder{published: map[string]float64{}}
}

// labelSets collects the closed label sets of a snapshot.
type labelSets struct {
	clusters map[string]bool
	parts    map[snapshot.ClusterPartition]bool
	devs     map[snapshot.Device]bool
}

func (l *labelSets) part(cluster, partition string) {
	l.parts[snapshot.ClusterPartition{Cluster: cluster, Partition: partition}] = true
}

// Build makes the snapshot of in.
func (b *Builder) Build(in *Inputs) (*snapshot.Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &snapshot.Snapshot{Time: in.Now, Complete: in.Complete, Config: in.Config, Quarantined: in.Quarantined, Sources: in.Sources}
	b.labels = labelSets{clusters: map[string]bool{}, parts: map[snapshot.ClusterPartition]bool{}, devs: map[snapshot.Device]bool{}}
	if inv := in.Inventory; inv != nil {
		for _, c := range inv.Clusters {
			b.labels.clusters[c.Name] = true
			for _, p := range c.Partitions {
				b.labels.part(c.Name, p.Name)
				for _, g := range p.NodeGroups {
					for _, a := range g.Accels {
						k, m := DevName(a.Device)
						b.labels.devs[snapshot.Device{Cluster: c.Name, Partition: p.Name, Kind: k, Model: m}] = true
					}
				}
			}
		}
	}
	for _, st := range append([]Stage{stageCounters, stageCapacity, stageIdle, stageWindows, stagePresent}, b.Stages...) {
		if err := st(b, in, s); err != nil {
			return nil, err
		}
	}
	for c := range b.labels.clusters {
		s.Clusters = append(s.Clusters, c)
	}
	sort.Strings(s.Clusters)
	for p := range b.labels.parts {
		s.Partitions = append(s.Partitions, p)
	}
	slices.SortFunc(s.Partitions, func(a, b snapshot.ClusterPartition) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Partition, b.Partition))
	})
	for d := range b.labels.devs {
		s.Devices = append(s.Devices, d)
	}
	slices.SortFunc(s.Devices, func(a, b snapshot.Device) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Model, b.Model))
	})
	return s, nil
}

// DevName returns the kind and model label values of a device: a device
// without a model is "<kind> (unspecified)".
func DevName(d accel.Device) (kind, model string) {
	kind, model = d.Kind, d.Model
	if model == "" {
		model = kind + " (unspecified)"
	}
	return kind, model
}

// monotone returns v, or the value last published under key when v is
// lower: a counter never goes down within a process.
func (b *Builder) monotone(key string, v float64) float64 {
	if prev, ok := b.published[key]; ok && v < prev {
		return prev
	}
	b.published[key] = v
	return v
}

func (b *Builder) monotoneAccel(prefix string, in []snapshot.AccelSeconds) []snapshot.AccelSeconds {
	for i := range in {
		in[i].Seconds = b.monotone(prefix+"|"+in[i].Kind+"|"+in[i].Model, in[i].Seconds)
	}
	return in
}

func sortAccel(a []snapshot.AccelSeconds) {
	slices.SortFunc(a, func(x, y snapshot.AccelSeconds) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Model, y.Model))
	})
}
