package daemon

import (
	"sort"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
)

// idleCounters splits the idle resource-seconds of every cluster from the
// first allocation to complete by reason (the split of `scmon report
// --view idle`, with waits dated from submission: the store keeps no
// Eligible time), and counts the pending demand, under the monotone guard.
// Node states are in the capacity counters, so down, drained and planned
// stay zero here: the split divides what the inventory says is idle.
func (d *Daemon) idleCounters(rt *Runtime, inv *capacity.Inventory, complete time.Time) ([]snapshot.IdleSeconds, []snapshot.DemandSeconds) {
	if inv == nil || complete.IsZero() || d.origin.IsZero() || !complete.After(d.origin) {
		return nil, nil
	}
	var pending []*job.Record
	for _, list := range d.pending {
		pending = append(pending, list...)
	}
	jobs := planning.JobsFromStore(d.mem, inv, rt.Table, pending, rt.Config.Cluster)
	split, err := planning.Idle(jobs, planning.IdleQuery{From: d.origin, To: complete, Inventory: inv})
	if err != nil {
		rt.logger.Warn("idle split", "err", err)
		return nil, nil
	}
	type dkey struct{ cluster, kind, model string }
	sums := map[dkey]*planning.Split{}
	add := func(k dkey, s *planning.Split) {
		if sums[k] == nil {
			sums[k] = &planning.Split{}
		}
		t := sums[k]
		t.Down += s.Down
		t.Drained += s.Drained
		t.Planned += s.Planned
		t.Blocked += s.Blocked
		t.Mismatch += s.Mismatch
		t.NoDemand += s.NoDemand
		t.DemandSeconds += s.DemandSeconds
	}
	for i := range split.Pools {
		p := &split.Pools[i]
		add(dkey{cluster: p.Cluster}, &p.Cores)
		for j := range p.Devices {
			dv := &p.Devices[j]
			add(dkey{p.Cluster, dv.Kind, dv.Model}, &dv.Split)
		}
	}
	keys := make([]dkey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.cluster+"\x00"+a.kind+"\x00"+a.model < b.cluster+"\x00"+b.kind+"\x00"+b.model
	})
	var idle []snapshot.IdleSeconds
	var demand []snapshot.DemandSeconds
	for _, k := range keys {
		s := sums[k]
		base := k.cluster + "|" + k.kind + "|" + k.model
		for _, r := range planning.Reasons {
			idle = append(idle, snapshot.IdleSeconds{Cluster: k.cluster, Kind: k.kind, Model: k.model, Reason: r,
				Seconds: d.monotone("i|"+base+"|"+r, float64(s.Reason(r)))})
		}
		demand = append(demand, snapshot.DemandSeconds{Cluster: k.cluster, Kind: k.kind, Model: k.model,
			Seconds: d.monotone("w|"+base, float64(s.DemandSeconds))})
	}
	return idle, demand
}
