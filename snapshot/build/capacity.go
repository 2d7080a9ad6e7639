package build

import (
	"sort"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/snapshot"
)

// stageCapacity publishes the capacity-seconds by state: the node ledger's
// when node polls run, otherwise the inventory's from the first allocation
// on, allocated from the counters and the rest idle.
func stageCapacity(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	if in.NodeCapacity != nil {
		s.Capacity = in.NodeCapacity
		return nil
	}
	inv := in.Inventory
	if inv == nil || b.c == nil || in.Complete.IsZero() || in.Origin.IsZero() || !in.Complete.After(in.Origin) {
		return nil
	}
	eng := b.c.eng
	devs := eng.Devices()
	allocCores := map[[2]string]float64{}
	allocBilling := map[[2]string]float64{}
	allocAccel := map[[4]string]float64{}
	for k, am := range b.c.alloc {
		cl, part := eng.Label(uint32(k.cl)), eng.Label(uint32(k.part))
		allocCores[[2]string{cl, part}] += float64(am.core)
		allocBilling[[2]string{cl, part}] += billing(in, cl, part, am, devs)
		for di, v := range am.dev {
			if di == 0 || !devs[di].Known {
				continue
			}
			kind, model := DevName(devs[di].Device)
			allocAccel[[4]string{cl, part, kind, model}] += float64(v)
		}
	}
	for _, c := range inv.Clusters {
		owner := map[*capacity.NodeGroup]string{}
		for _, p := range c.Partitions {
			for _, g := range p.NodeGroups {
				if _, ok := owner[g]; !ok {
					owner[g] = p.Name
				}
			}
		}
		totCores := map[string]float64{}
		totBilling := map[string]float64{}
		totAccel := map[string]map[accel.Device]float64{}
		for _, g := range c.NodeGroups {
			p := owner[g]
			ns := float64(g.NodeSeconds(in.Origin, in.Complete))
			totCores[p] += ns * float64(g.Cores)
			totBilling[p] += ns * c.WeightsFor(p).Billing(g.Cores, 1, g.Accels)
			if totAccel[p] == nil {
				totAccel[p] = map[accel.Device]float64{}
			}
			for _, a := range g.Accels {
				totAccel[p][a.Device] += ns * float64(a.Count)
			}
		}
		pnames := make([]string, 0, len(totCores))
		for p := range totCores {
			pnames = append(pnames, p)
		}
		sort.Strings(pnames)
		for _, p := range pnames {
			alloc := min(allocCores[[2]string{c.Name, p}], totCores[p])
			bill := min(allocBilling[[2]string{c.Name, p}], totBilling[p])
			var aAlloc, aIdle []snapshot.AccelSeconds
			for dv, total := range totAccel[p] {
				kind, model := DevName(dv)
				used := min(allocAccel[[4]string{c.Name, p, kind, model}], total)
				aAlloc = append(aAlloc, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: used})
				aIdle = append(aIdle, snapshot.AccelSeconds{Kind: kind, Model: model, Seconds: total - used})
			}
			sortAccel(aAlloc)
			sortAccel(aIdle)
			base := c.Name + "|" + p
			s.Capacity = append(s.Capacity,
				snapshot.Capacity{Cluster: c.Name, Partition: p, State: snapshot.StateAllocated, CoreSeconds: b.monotone("ca|"+base, alloc),
					BillingSeconds: b.monotone("cab|"+base, bill), Accel: b.monotoneAccel("caa|"+base, aAlloc)},
				snapshot.Capacity{Cluster: c.Name, Partition: p, State: snapshot.StateIdle, CoreSeconds: b.monotone("ci|"+base, totCores[p]-alloc),
					BillingSeconds: b.monotone("cib|"+base, totBilling[p]-bill), Accel: b.monotoneAccel("cia|"+base, aIdle)},
			)
		}
	}
	return nil
}
