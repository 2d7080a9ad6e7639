package build

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// Replay reads the daemon's allocation and capacity counters over a
// finished history at increasing instants: what a daemon running all along
// would have published at each of them. `scmon backfill` writes its
// samples from it, so backfilled and scraped series come from the same
// code (the label sets, the attribution of seconds to time, billing, the
// capacity states and the rule that a counter never goes down).
//
// A Replay advances by the allocations' starts and ends in time order, so
// a sample costs the events since the previous one and the label sets,
// not the allocations held. It reads the store it was made with, which
// must not change while it is used, and serves one goroutine.
type Replay struct {
	c      *counters
	origin int64
	starts []replayEvent
	ends   []replayEvent
	si, ei int
	t      int64

	rates    []*rates // per label set
	plan     []capPart
	partKeys [][]int32 // per plan entry: the label sets of its partition

	alloc []snapshot.Allocated
	capac []snapshot.Capacity
	// waiting are the partitions and devices of the jobs waiting at the
	// end, which the exporter names too.
	waiting []snapshot.Device
	kv      keyValues
	cv      capValues
	held    heldSum
	// floor holds the capacity values published so far: a counter never
	// goes down (Builder.monotone).
	floor []float64
}

// replayEvent is an allocation's start or end.
type replayEvent struct {
	x   int64
	job uint32
	key int32
}

// NewReplay prepares the counters of the allocations of eng that started
// before to (Unix seconds), and the names of the jobs waiting then, priced and with capacity from inv (nil: no
// capacity, no billing), with the account label when account is set.
func NewReplay(eng *usage.Store, inv *capacity.Inventory, account bool, to int64) *Replay {
	c := newCounters(eng, account)
	r := &Replay{c: c}
	jobs := eng.Jobs()
	r.origin = 0
	for i := range jobs {
		j := &jobs[i]
		if j.Start == 0 && j.State == job.StatePending && j.Submit != 0 && int64(j.Submit) < to {
			r.wait(inv, i)
			continue
		}
		s, e, open, ok := extent(j)
		if !ok || s >= to {
			continue
		}
		if r.origin == 0 || s < r.origin {
			r.origin = s
		}
		k := c.keyID(j)
		c.amts[k].reserve(eng.JobDevices(i))
		r.starts = append(r.starts, replayEvent{x: s, job: uint32(i), key: k})
		if !open {
			r.ends = append(r.ends, replayEvent{x: e, job: uint32(i), key: k})
		}
	}
	byTime := func(a, b replayEvent) int { return cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.job, b.job)) }
	slices.SortFunc(r.starts, byTime)
	slices.SortFunc(r.ends, byTime)

	// The label sets in the order the daemon publishes them.
	order := make([]int32, len(c.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return compareKeys(eng, c.keys[x], c.keys[y]) })
	renum := make([]int32, len(order))
	keys := make([]allocKey, len(order))
	amts := make([]amount, len(order))
	for to, from := range order {
		renum[from] = int32(to)
		keys[to] = c.keys[from]
		amts[to] = c.amts[from]
		c.keyIdx[keys[to]] = int32(to)
	}
	c.keys, c.amts = keys, amts
	for i := range r.starts {
		r.starts[i].key = renum[r.starts[i].key]
	}
	for i := range r.ends {
		r.ends[i].key = renum[r.ends[i].key]
	}

	devs := eng.Devices()
	rateOf := map[partKey]*rates{}
	r.rates = make([]*rates, len(keys))
	r.alloc = make([]snapshot.Allocated, len(keys))
	for i, k := range keys {
		cl, part := eng.Label(uint32(k.cl)), eng.Label(uint32(k.part))
		rt := rateOf[partKey{k.cl, k.part}]
		if rt == nil {
			rt = ratesFor(inv, cl, part, devs)
			rateOf[partKey{k.cl, k.part}] = rt
		}
		r.rates[i] = rt
		r.alloc[i] = snapshot.Allocated{Cluster: cl, Partition: part, Class: k.class.String()}
		if account {
			r.alloc[i].Account = eng.Label(k.acct)
		}
		value(&amts[i], 0, rt, &c.names, &r.kv)
		r.alloc[i].Accel = slices.Clone(r.kv.accel)
	}
	r.plan = capacityPlan(inv, devs)
	r.partKeys = make([][]int32, len(r.plan))
	for pi, p := range r.plan {
		for i := range r.alloc {
			if r.alloc[i].Cluster == p.cluster && r.alloc[i].Partition == p.partition {
				r.partKeys[pi] = append(r.partKeys[pi], int32(i))
			}
		}
		for _, st := range []string{snapshot.StateAllocated, snapshot.StateIdle} {
			row := snapshot.Capacity{Cluster: p.cluster, Partition: p.partition, State: st}
			for _, d := range p.devs {
				row.Accel = append(row.Accel, snapshot.AccelSeconds{Kind: d.kind, Model: d.model})
			}
			r.capac = append(r.capac, row)
		}
	}
	r.Reset()
	return r
}

// wait names the partition (the first of several) and the devices of
// waiting job i: an untyped request as the partition's one model of its
// kind, as the daemon resolves it.
func (r *Replay) wait(inv *capacity.Inventory, i int) {
	eng := r.c.eng
	j := &eng.Jobs()[i]
	cl := eng.Label(uint32(j.Cluster))
	part, _, _ := strings.Cut(eng.Label(uint32(j.Partition)), ",")
	r.waiting = append(r.waiting, snapshot.Device{Cluster: cl, Partition: part})
	for _, dc := range eng.JobDevices(i) {
		if d := eng.Device(dc.Device); d.Known {
			kind, model := DevName(inv.ResolveDevice(cl, part, d.Device))
			r.waiting = append(r.waiting, snapshot.Device{Cluster: cl, Partition: part, Kind: kind, Model: model})
		}
	}
}

// Waiting returns the partitions (Kind empty) and accelerators the jobs
// waiting before the end name: the exporter emits their series, at zero.
func (r *Replay) Waiting() []snapshot.Device { return r.waiting }

// Origin returns the start of the history in Unix seconds, the earliest
// start of an allocation counted (0 when there is none): the capacity
// counters count from it.
func (r *Replay) Origin() int64 { return r.origin }

// Reset rewinds the counters to nothing counted.
func (r *Replay) Reset() {
	for i := range r.c.amts {
		am := &r.c.amts[i]
		am.core, am.node = lin{}, lin{}
		clear(am.dev)
	}
	r.si, r.ei, r.t = 0, 0, 0
	r.floor = make([]float64, 0)
}

// Advance brings the counters to t (Unix seconds), which must not be
// before the previous instant.
func (r *Replay) Advance(t int64) error {
	if t < r.t {
		return fmt.Errorf("replay at %d after %d: time goes forward only", t, r.t)
	}
	jobs := r.c.eng.Jobs()
	for ; r.si < len(r.starts) && r.starts[r.si].x <= t; r.si++ {
		ev := r.starts[r.si]
		r.c.amts[ev.key].event(&jobs[ev.job], r.c.eng.JobDevices(int(ev.job)), ev.x, 1)
	}
	for ; r.ei < len(r.ends) && r.ends[r.ei].x <= t; r.ei++ {
		ev := r.ends[r.ei]
		r.c.amts[ev.key].event(&jobs[ev.job], r.c.eng.JobDevices(int(ev.job)), ev.x, -1)
	}
	r.t = t
	return nil
}

// Allocated returns the allocation counters at the current instant, one
// row per label set (those of every allocation counted, zeros included),
// in the same order and with the same Accel entries at every instant. The
// rows are reused by the next call.
func (r *Replay) Allocated() []snapshot.Allocated {
	for i := range r.alloc {
		value(&r.c.amts[i], r.t, r.rates[i], &r.c.names, &r.kv)
		a := &r.alloc[i]
		a.CoreSeconds, a.NodeSeconds, a.BillingSeconds = r.kv.core, r.kv.node, r.kv.billing
		for d := range a.Accel {
			a.Accel[d].Seconds = r.kv.accel[d].Seconds
		}
	}
	return r.alloc
}

// Capacity returns the capacity counters at the current instant from the
// origin: per partition of the inventory that counts capacity, its
// allocated and idle rows, in the same order and with the same Accel
// entries at every instant. The rows are reused by the next call.
func (r *Replay) Capacity() []snapshot.Capacity {
	at := 0
	for pi := range r.plan {
		p := &r.plan[pi]
		r.held.reset()
		for _, k := range r.partKeys[pi] {
			r.held.add(&r.c.amts[k], r.t)
		}
		origin := r.origin
		if origin == 0 {
			origin = r.t // nothing counted yet: no capacity either
		}
		p.capacityAt(origin, r.t, &r.held, &r.c.names, &r.cv)
		a, idle := &r.capac[2*pi], &r.capac[2*pi+1]
		a.CoreSeconds, idle.CoreSeconds = r.floorAt(&at, r.cv.coreAlloc), r.floorAt(&at, r.cv.coreIdle)
		a.BillingSeconds, idle.BillingSeconds = r.floorAt(&at, r.cv.billingAlloc), r.floorAt(&at, r.cv.billingIdle)
		for d := range p.devs {
			a.Accel[d].Seconds = r.floorAt(&at, r.cv.devAlloc[d])
			idle.Accel[d].Seconds = r.floorAt(&at, r.cv.devIdle[d])
		}
	}
	return r.capac
}

// floorAt returns v, or the value last returned at position *at when v is
// lower, and moves to the next position.
func (r *Replay) floorAt(at *int, v float64) float64 {
	i := *at
	*at++
	if i == len(r.floor) {
		r.floor = append(r.floor, v)
		return v
	}
	if v < r.floor[i] {
		return r.floor[i]
	}
	r.floor[i] = v
	return v
}
