package daemon

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
	"github.com/scmon/scmon/source"
)

// nodeLedger accumulates capacity-seconds by state from node polls: each
// interval between two polls is attributed to the states seen at its start.
// A node counts under its first partition only, so that partitions sum to
// the cluster.
type nodeLedger struct {
	table *accel.Table
	last  map[string]*source.NodeSnapshot // by cluster
	sums  map[capKey]*capSum
	// inv is the inventory derived from the last polls for the runtime
	// invRT (see nodeInventory); observe forgets it.
	inv   *capacity.Inventory
	invRT *Runtime
}

type capKey struct {
	cluster, partition, state string
}

type capSum struct {
	coreSeconds    float64
	billingSeconds float64
	accel          map[accel.Device]float64
}

func newNodeLedger(table *accel.Table) *nodeLedger {
	return &nodeLedger{table: table, last: map[string]*source.NodeSnapshot{}, sums: map[capKey]*capSum{}}
}

// maxGap bounds the interval attributed to the previous poll's states: a
// longer silence (the daemon stopped, the node source failing) is not
// guessed at.
const maxGap = 15 * time.Minute

// observe attributes the interval since the cluster's previous poll to the
// states that poll saw. weights gives a partition's billing weights (nil:
// no billing capacity).
func (l *nodeLedger) observe(cluster string, s *source.NodeSnapshot, weights func(partition string) capacity.Weights) {
	prev := l.last[cluster]
	l.last[cluster] = s
	l.inv, l.invRT = nil, nil
	if prev == nil {
		return
	}
	dt := s.Time.Sub(prev.Time).Seconds()
	if dt <= 0 || dt > maxGap.Seconds() {
		return
	}
	for _, n := range prev.Nodes {
		sh := shareOf(n, l.table)
		var w capacity.Weights
		if weights != nil {
			w = weights(sh.partition)
		}
		allocKey := capKey{cluster, sh.partition, snapshot.StateAllocated}
		restKey := capKey{cluster, sh.partition, sh.rest}
		l.add(allocKey, sh.coresAlloc*dt, w["cpu"]*sh.coresAlloc*dt)
		l.add(restKey, sh.coresRest*dt, w["cpu"]*sh.coresRest*dt)
		for _, a := range sh.accels {
			wa := w.Accel(a.gresName, a.gresType)
			l.addAccel(allocKey, a.dev, a.used*dt, wa*a.used*dt)
			l.addAccel(restKey, a.dev, a.free*dt, wa*a.free*dt)
		}
	}
}

// nodeShare is one node's resources split into what jobs hold and the
// rest, which is in the state of the node (idle, down, drained, planned).
// The node counts under its first partition.
type nodeShare struct {
	partition, rest       string
	coresAlloc, coresRest float64
	accels                []accelShare
}

// accelShare is one accelerator line of a node: how many are in use.
type accelShare struct {
	dev                accel.Device
	gresName, gresType string
	used, free         float64
}

func shareOf(n collector.SlurmNode, table *accel.Table) nodeShare {
	sh := nodeShare{rest: restState(n), coresAlloc: float64(n.CoresAllocated), coresRest: float64(n.Cores - n.CoresAllocated)}
	if len(n.Partitions) > 0 {
		sh.partition = n.Partitions[0]
	}
	inUse := map[accel.Device]float64{}
	for _, a := range n.AccelsInUse {
		if d, res := table.Lookup(a.Name, a.Type); res == accel.Accelerator {
			inUse[d] += float64(a.Count)
		}
	}
	for _, a := range n.Accels {
		d, res := table.Lookup(a.Name, a.Type)
		if res != accel.Accelerator {
			continue
		}
		used := min(inUse[d], float64(a.Count))
		inUse[d] -= used
		sh.accels = append(sh.accels, accelShare{dev: d, gresName: a.Name, gresType: a.Type, used: used, free: float64(a.Count) - used})
	}
	return sh
}

func (l *nodeLedger) sum(k capKey) *capSum {
	s := l.sums[k]
	if s == nil {
		s = &capSum{accel: map[accel.Device]float64{}}
		l.sums[k] = s
	}
	return s
}

func (l *nodeLedger) add(k capKey, cores, billing float64) {
	s := l.sum(k)
	s.coreSeconds += cores
	s.billingSeconds += billing
}

func (l *nodeLedger) addAccel(k capKey, d accel.Device, v, billing float64) {
	s := l.sum(k)
	s.accel[d] += v
	s.billingSeconds += billing
}

// restState returns the state of the resources of a node that no job
// holds (what jobs hold is allocated): a down node has nothing allocated; a
// drained or draining node's free resources are drained; maintenance and
// reservations are planned.
func restState(n collector.SlurmNode) (rest string) {
	rest = snapshot.StateIdle
	switch n.State {
	case "down", "fail", "failing", "unknown", "future", "power_down", "powered_down", "powering_down":
		rest = snapshot.StateDown
	case "drained", "draining", "drain":
		rest = snapshot.StateDrained
	case "planned", "maint", "reserved":
		rest = snapshot.StatePlanned
	}
	for _, f := range n.Flags {
		switch f {
		case "drain", "draining", "drained":
			if rest == snapshot.StateIdle {
				rest = snapshot.StateDrained
			}
		case "maint", "reserved", "planned":
			if rest == snapshot.StateIdle {
				rest = snapshot.StatePlanned
			}
		case "not_responding", "down", "fail":
			rest = snapshot.StateDown
		}
	}
	return rest
}

// capacity returns the capacity-seconds by state the node polls gave.
func (l *nodeLedger) capacity() []snapshot.Capacity {
	keys := make([]capKey, 0, len(l.sums))
	for k := range l.sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b capKey) int {
		return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.partition, b.partition), cmp.Compare(a.state, b.state))
	})
	out := make([]snapshot.Capacity, 0, len(keys))
	for _, k := range keys {
		sum := l.sums[k]
		c := snapshot.Capacity{Cluster: k.cluster, Partition: k.partition, State: k.state, CoreSeconds: sum.coreSeconds, BillingSeconds: sum.billingSeconds}
		for dv, v := range sum.accel {
			kind, model := build.DevName(dv)
			c.Accel = append(c.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: v})
		}
		sortAccel(c.Accel)
		out = append(out, c)
	}
	return out
}

func sortAccel(a []snapshot.AccelSeconds) {
	slices.SortFunc(a, func(x, y snapshot.AccelSeconds) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Model, y.Model))
	})
}

// states counts nodes, cores and accelerators by state in the last node
// polls.
func (l *nodeLedger) states(table *accel.Table) []snapshot.NodeState {
	type key struct{ cluster, partition, state string }
	m := map[key]*snapshot.NodeState{}
	get := func(k key) *snapshot.NodeState {
		n := m[k]
		if n == nil {
			n = &snapshot.NodeState{Cluster: k.cluster, Partition: k.partition, State: k.state}
			m[k] = n
		}
		return n
	}
	addAccel := func(n *snapshot.NodeState, dv accel.Device, v float64) {
		kind, model := build.DevName(dv)
		for i := range n.Accel {
			if n.Accel[i].Kind == kind && n.Accel[i].Model == model {
				n.Accel[i].Seconds += v
				return
			}
		}
		n.Accel = append(n.Accel, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: v})
	}
	for cl, snap := range l.last {
		for _, nd := range snap.Nodes {
			sh := shareOf(nd, table)
			alloc := get(key{cl, sh.partition, snapshot.StateAllocated})
			rest := get(key{cl, sh.partition, sh.rest})
			if sh.coresAlloc > 0 {
				alloc.Nodes++
			} else {
				rest.Nodes++
			}
			alloc.Cores += sh.coresAlloc
			rest.Cores += sh.coresRest
			for _, a := range sh.accels {
				addAccel(alloc, a.dev, a.used)
				addAccel(rest, a.dev, a.free)
			}
		}
	}
	out := make([]snapshot.NodeState, 0, len(m))
	for _, n := range m {
		sortAccel(n.Accel)
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b snapshot.NodeState) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.State, b.State))
	})
	return out
}

// nodeInventory derives the capacity from the last node polls when no
// capacity file is configured: the nodes as scontrol shows them now. It
// is derived once per node poll (observe forgets it), not per snapshot.
func (d *Daemon) nodeInventory(rt *Runtime) *capacity.Inventory {
	l := d.nodes
	if l == nil || len(l.last) == 0 {
		return nil
	}
	if l.invRT == rt {
		return l.inv
	}
	l.inv, l.invRT = nil, rt
	inv := &capacity.Inventory{Source: "scontrol show node (last poll)"}
	names := make([]string, 0, len(l.last))
	for cl := range l.last {
		names = append(names, cl)
	}
	sort.Strings(names)
	for _, cl := range names {
		ni, err := collector.NodesInventory(l.last[cl].Nodes, collector.CapacityOptions{Cluster: cl, Location: rt.Location, Accels: rt.Table})
		if err != nil || len(ni.Clusters) == 0 {
			continue
		}
		inv.Clusters = append(inv.Clusters, ni.Clusters...)
	}
	if len(inv.Clusters) == 0 || inv.Validate() != nil {
		return nil
	}
	l.inv = inv
	return inv
}
