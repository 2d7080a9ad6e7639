package build

import (
	"cmp"
	"slices"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// idleState is the idle split counted so far: from origin to to.
type idleState struct {
	c      *counters
	origin int64
	to     int64
	sums   map[idleKey]*planning.Split
}

type idleKey struct{ cluster, kind, model string }

// idleChunk bounds the time one pass of the split covers when the split
// starts from the beginning: the split of a span is the sum of the splits
// of its parts, and a part needs only the allocations that overlap it.
const idleChunk = 7 * 24 * 3600

// stageIdle advances the idle split by reason and the pending demand
// (planning.Idle, with waits dated from submission: the engine keeps no
// Eligible time) from the last complete time to this one. Node states are
// in the capacity counters, so down, drained and planned stay zero here.
//
// A later record that moves the end of a job already counted (earlier or
// later) changes the split of the time not yet published only: the
// counters' advance puts the job back among the active ones (touched) when
// it now runs past the last complete time, and drops it when it no longer
// does. The seconds already published keep their reasons, as allocated
// seconds keep their class (counters.go): a counter cannot move seconds
// between reasons without going down, so over the whole history the split
// differs from one made afresh by the corrected seconds before the last
// publish (TestIdleSplitAfterCorrectedEnd).
func stageIdle(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	inv := in.Inventory
	if inv == nil || b.c == nil || in.Complete.IsZero() || in.Origin.IsZero() || !in.Complete.After(in.Origin) {
		b.idle = nil
		return nil
	}
	c := b.c
	origin, to := in.Origin.Unix(), in.Complete.Unix()
	st := b.idle
	pending := pendingJobs(in.Pending)
	// The split advances with the inventory in force over each interval:
	// a capacity read from node polls changes with every poll, and the
	// past keeps the split it had.
	if st == nil || st.c != c || origin < st.origin || st.to != c.from {
		// From the beginning, a chunk at a time.
		st = &idleState{c: c, origin: origin, to: origin, sums: map[idleKey]*planning.Split{}}
		b.idle = st
		jobs := c.eng.Jobs()
		for a := origin; a < to; a += idleChunk {
			z := min(a+idleChunk, to)
			var part []planning.Job
			for i := range jobs {
				j := &jobs[i]
				first := int64(j.Submit)
				if first == 0 {
					first = int64(j.Start)
				}
				if j.Start != 0 && first < z && (j.End == usage.OpenEnd || int64(j.End) > a) {
					part = append(part, storedJob(c.eng, inv, i))
				}
			}
			if err := st.add(append(part, pending...), a, z, inv); err != nil {
				return err
			}
		}
	} else if to > st.to {
		jobs := make([]planning.Job, 0, len(c.touched)+len(pending))
		for _, i := range c.touched {
			jobs = append(jobs, storedJob(c.eng, inv, int(i)))
		}
		if err := st.add(append(jobs, pending...), st.to, to, inv); err != nil {
			return err
		}
	}
	st.to = to
	keys := make([]idleKey, 0, len(st.sums))
	for k := range st.sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b idleKey) int {
		return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.kind, b.kind), cmp.Compare(a.model, b.model))
	})
	for _, k := range keys {
		sp := st.sums[k]
		base := k.cluster + "|" + k.kind + "|" + k.model
		for _, r := range planning.Reasons {
			s.Idle = append(s.Idle, snapshot.IdleSeconds{Cluster: k.cluster, Kind: k.kind, Model: k.model, Reason: r,
				Seconds: b.monotone("i|"+base+"|"+r, float64(sp.Reason(r)))})
		}
		s.Demand = append(s.Demand, snapshot.DemandSeconds{Cluster: k.cluster, Kind: k.kind, Model: k.model,
			Seconds: b.monotone("w|"+base, float64(sp.DemandSeconds))})
	}
	return nil
}

// add splits [from, to) and adds it to the sums.
func (st *idleState) add(jobs []planning.Job, from, to int64, inv *capacity.Inventory) error {
	if to <= from {
		return nil
	}
	split, err := planning.Idle(jobs, planning.IdleQuery{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC(), Inventory: inv})
	if err != nil {
		return err
	}
	for i := range split.Pools {
		p := &split.Pools[i]
		st.sum(idleKey{cluster: p.Cluster}, &p.Cores)
		for j := range p.Devices {
			dv := &p.Devices[j]
			st.sum(idleKey{p.Cluster, dv.Kind, dv.Model}, &dv.Split)
		}
	}
	return nil
}

func (st *idleState) sum(k idleKey, s *planning.Split) {
	t := st.sums[k]
	if t == nil {
		t = &planning.Split{}
		st.sums[k] = t
	}
	t.Down += s.Down
	t.Drained += s.Drained
	t.Planned += s.Planned
	t.Blocked += s.Blocked
	t.Mismatch += s.Mismatch
	t.NoDemand += s.NoDemand
	t.DemandSeconds += s.DemandSeconds
}

func unixTime(v uint32) time.Time {
	if v == 0 || v == usage.OpenEnd {
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

// storedJob is allocation i as the idle split needs it (as
// planning.JobsFromStore makes it).
func storedJob(eng *usage.Store, inv *capacity.Inventory, i int) planning.Job {
	j := &eng.Jobs()[i]
	pj := planning.Job{Cluster: eng.Label(uint32(j.Cluster)), Partition: eng.Label(uint32(j.Partition)), Account: eng.Label(j.Account), User: eng.Label(j.User),
		Class: j.Class, State: j.State, Submit: unixTime(j.Submit), Start: unixTime(j.Start), End: unixTime(j.End), Cores: int64(j.Cores), Nodes: int64(j.Nodes)}
	for _, dc := range eng.JobDevices(i) {
		d := eng.Device(dc.Device)
		if !d.Known {
			continue
		}
		pj.Devices = append(pj.Devices, planning.DeviceCount{Device: inv.ResolveDevice(pj.Cluster, pj.Partition, d.Device), Count: int64(dc.Count)})
	}
	return pj
}

// pendingJobs are the waiting jobs as the idle split needs them.
func pendingJobs(ps []Pending) []planning.Job {
	out := make([]planning.Job, 0, len(ps))
	for _, p := range ps {
		pj := planning.Job{Cluster: p.Cluster, Partition: p.Partition, Account: p.Account, User: p.User, Class: p.Class,
			State: job.StatePending, Submit: p.Submit, Eligible: p.Eligible, Cores: p.Cores, Nodes: p.Nodes}
		for _, d := range p.Devices {
			if d.Count > 0 {
				pj.Devices = append(pj.Devices, planning.DeviceCount{Device: d.Device, Count: d.Count})
			}
		}
		out = append(out, pj)
	}
	return out
}
