package build

import (
	"github.com/scmon/scmon/snapshot"
)

// stageCapacity publishes the capacity-seconds by state: the node ledger's
// when node polls run, otherwise the inventory's from the first allocation
// on, allocated from the counters and the rest idle (capPart.capacityAt).
func stageCapacity(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	if in.NodeCapacity != nil {
		s.Capacity = in.NodeCapacity
		return nil
	}
	inv := in.Inventory
	if inv == nil || b.c == nil || in.Complete.IsZero() || in.Origin.IsZero() || !in.Complete.After(in.Origin) {
		return nil
	}
	c := b.c
	eng := c.eng
	plan := capacityPlan(inv, eng.Devices())
	held := c.heldByPart(c.to)
	origin, to := in.Origin.Unix(), in.Complete.Unix()
	var cv capValues
	var none heldSum
	for i := range plan {
		p := &plan[i]
		h := held[[2]string{p.cluster, p.partition}]
		if h == nil {
			h = &none
		}
		p.capacityAt(origin, to, h, &c.names, &cv)
		var aAlloc, aIdle []snapshot.AccelSeconds
		for di, d := range p.devs {
			aAlloc = append(aAlloc, snapshot.AccelSeconds{Kind: d.kind, Model: d.model, Seconds: cv.devAlloc[di]})
			aIdle = append(aIdle, snapshot.AccelSeconds{Kind: d.kind, Model: d.model, Seconds: cv.devIdle[di]})
		}
		sortAccel(aAlloc)
		sortAccel(aIdle)
		base := p.cluster + "|" + p.partition
		s.Capacity = append(s.Capacity,
			snapshot.Capacity{Cluster: p.cluster, Partition: p.partition, State: snapshot.StateAllocated, CoreSeconds: b.monotone("ca|"+base, cv.coreAlloc),
				BillingSeconds: b.monotone("cab|"+base, cv.billingAlloc), Accel: b.monotoneAccel("caa|"+base, aAlloc)},
			snapshot.Capacity{Cluster: p.cluster, Partition: p.partition, State: snapshot.StateIdle, CoreSeconds: b.monotone("ci|"+base, cv.coreIdle),
				BillingSeconds: b.monotone("cib|"+base, cv.billingIdle), Accel: b.monotoneAccel("cia|"+base, aIdle)},
		)
	}
	return nil
}

// heldByPart sums the allocation counters at t by (cluster, partition)
// name.
func (c *counters) heldByPart(t int64) map[[2]string]*heldSum {
	out := map[[2]string]*heldSum{}
	for id, k := range c.keys {
		p := [2]string{c.eng.Label(uint32(k.cl)), c.eng.Label(uint32(k.part))}
		h := out[p]
		if h == nil {
			h = &heldSum{}
			out[p] = h
		}
		h.add(&c.amts[id], t)
	}
	return out
}
