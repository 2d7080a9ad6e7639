package daemon

import (
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/snapshot"
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
