package build

import (
	"cmp"
	"slices"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// allocKey is one label set of the allocation counters, in engine labels.
type allocKey struct {
	cl, part uint16
	acct     uint32 // 0 (the empty label) unless the account label is on
	class    classify.Class
}

// counters is the incremental state of the cumulative figures.
type counters struct {
	eng     *usage.Store
	account bool
	// seen is how many engine allocations are counted; to is the time
	// they are counted up to (Unix seconds).
	seen int
	to   int64
	// active holds the allocations that may still accrue: started (or
	// not yet started) and not ended by to.
	active map[uint32]struct{}
	// keys are the label sets met so far, numbered in order of arrival;
	// amts holds their counters (see lin).
	keys   []allocKey
	keyIdx map[allocKey]int32
	amts   []amount
	names  devNames
	rules  map[uint32]uint64
	// friction counts the AI jobs that ended by to, by outcome.
	friction map[fricKey]*fricAmount
	// occupied node-seconds by cluster label, up to to.
	occupied map[string]int64
	// ledger is the per-hour prefix sums of the window gauges; slots
	// numbers its weights.
	ledger *usage.Ledger
	slots  map[slotKey]int
	slotOf []slotKey
	// touched lists the allocations the last advance looked at: those
	// that overlap the time it added (for the idle split).
	touched []uint32
	from    int64 // the previous to, for the idle split
}

// slotKey is one weight of the window ledger: cores (metric -2), nodes
// (-1) or a device (its engine index) of one cluster, partition and class.
type slotKey struct {
	cl, part uint16
	class    classify.Class
	metric   int32
}

const (
	metricCores = -2
	metricNodes = -1
)

func newCounters(eng *usage.Store, account bool) *counters {
	return &counters{eng: eng, account: account, active: map[uint32]struct{}{}, keyIdx: map[allocKey]int32{}, names: devNames{eng: eng},
		rules: map[uint32]uint64{}, friction: map[fricKey]*fricAmount{}, occupied: map[string]int64{}, ledger: &usage.Ledger{}, slots: map[slotKey]int{}}
}

func (c *counters) key(j *usage.Job) allocKey {
	k := allocKey{cl: j.Cluster, part: j.Partition, class: j.Class}
	if c.account {
		k.acct = j.Account
	}
	return k
}

// keyID returns the number of j's label set, numbering it if new.
func (c *counters) keyID(j *usage.Job) int32 {
	k := c.key(j)
	if id, ok := c.keyIdx[k]; ok {
		return id
	}
	id := int32(len(c.keys))
	c.keys = append(c.keys, k)
	c.amts = append(c.amts, amount{})
	c.keyIdx[k] = id
	return id
}

// eventsIn applies sign x j's events in (lo, hi] under j's label set.
func (c *counters) eventsIn(j *usage.Job, devs []usage.DeviceCount, lo, hi, sign int64) {
	if _, _, _, ok := extent(j); !ok {
		return
	}
	c.amts[c.keyID(j)].eventsIn(j, devs, lo, hi, sign)
}

// weights returns j's weights in the window ledger.
func (c *counters) weights(j *usage.Job, devs []usage.DeviceCount, buf []usage.Weight) []usage.Weight {
	slot := func(m int32) int {
		k := slotKey{j.Cluster, j.Partition, j.Class, m}
		i, ok := c.slots[k]
		if !ok {
			i = len(c.slotOf)
			c.slots[k] = i
			c.slotOf = append(c.slotOf, k)
		}
		return i
	}
	buf = append(buf, usage.Weight{Slot: slot(metricCores), W: int64(j.Cores)}, usage.Weight{Slot: slot(metricNodes), W: int64(j.Nodes)})
	for _, dc := range devs {
		buf = append(buf, usage.Weight{Slot: slot(int32(dc.Device)), W: int64(dc.Count)})
	}
	return buf
}

func (c *counters) ledgerAdd(i uint32, j *usage.Job, devs []usage.DeviceCount, sign int64) {
	if j.Start == 0 {
		return
	}
	end := int64(j.End)
	c.ledger.Add(i, int64(j.Start), end, c.weights(j, devs, nil), sign)
}

// rebuildLedger makes the window ledger again from every allocation
// counted, with every event.
func (c *counters) rebuildLedger() {
	c.ledger = &usage.Ledger{}
	jobs := c.eng.Jobs()
	for i := range c.seen {
		c.ledgerAdd(uint32(i), &jobs[i], c.eng.JobDevices(i), 1)
	}
}

// stillActive reports whether j may accrue after t.
func stillActive(j *usage.Job, t int64) bool {
	return j.Start != 0 && (j.End == usage.OpenEnd || int64(j.End) > t)
}

// advance brings the counters to t: replaced allocations are taken back
// and counted again up to the previous time, the active ones advance to t,
// new ones count in full. A job's outcome counts once, when it has ended by
// the time counted to: a new one at once, an active one when its end falls
// in the time added, a replaced one taken back and counted again.
func (c *counters) advance(t int64) {
	eng := c.eng
	jobs := eng.Jobs()
	t0 := c.to
	c.touched = c.touched[:0]
	c.from = t0
	// Replacements of allocations already counted.
	done := map[uint32]bool{}
	for _, ch := range eng.TakeChanges() {
		i := ch.Index
		if int(i) >= c.seen || done[i] {
			continue
		}
		done[i] = true
		old := ch.Old
		oldDevs := ch.DeviceCounts()
		cur := &jobs[i]
		curDevs := eng.JobDevices(int(i))
		// The time up to t0 was published under the old labels and stays
		// there, corrected: a counter cannot move seconds from one class
		// (or partition, or account) to another without going down. A job
		// first seen running as unknown and decided at its end keeps its
		// early seconds under unknown; the seconds after t0 go to its new
		// class, and the sum over classes stays exact. The idle split
		// (stageIdle) and the occupied node-seconds follow the same rule: a
		// corrected end or node list changes the split and the occupancy of
		// the time after t0 exactly, while the idle seconds published before
		// t0 keep the reason they had, and occupied seconds taken back hold
		// the counter (Builder.monotone) until the true total passes it.
		c.eventsIn(&old, oldDevs, 0, t0, -1)
		if _, _, _, ok := extent(cur); ok {
			ko := c.keyID(&old)
			c.amts[ko].eventsIn(cur, curDevs, 0, t0, 1)
			if kc := c.keyID(cur); kc != ko {
				// Held across t0: the old labels stop there, the new
				// ones take over.
				if s, e, open, _ := extent(cur); s <= t0 && (open || e > t0) {
					c.amts[ko].event(cur, curDevs, t0, -1)
					c.amts[kc].event(cur, curDevs, t0, 1)
				}
			}
		}
		c.fric(&old, oldDevs, t0, -1)
		c.fric(cur, curDevs, t0, 1)
		c.rules[old.Rules]--
		c.rules[cur.Rules]++
		c.ledgerAdd(i, &old, oldDevs, -1)
		c.ledgerAdd(i, cur, curDevs, 1)
		if stillActive(cur, t0) {
			c.active[i] = struct{}{}
		} else {
			delete(c.active, i)
		}
	}
	// The active ones advance from t0 to t.
	for i := range c.active {
		j := &jobs[i]
		devs := eng.JobDevices(int(i))
		c.eventsIn(j, devs, t0, t, 1)
		// Active at t0: not ended by then, so counted now if it ended by t.
		c.fric(j, devs, t, 1)
		c.touched = append(c.touched, i)
		if !stillActive(j, t) {
			delete(c.active, i)
		}
	}
	// New ones count in full.
	for i := c.seen; i < len(jobs); i++ {
		j := &jobs[i]
		devs := eng.JobDevices(i)
		c.eventsIn(j, devs, 0, t, 1)
		c.fric(j, devs, t, 1)
		c.rules[j.Rules]++
		c.ledgerAdd(uint32(i), j, devs, 1)
		if stillActive(j, t0) {
			c.touched = append(c.touched, uint32(i))
		}
		if stillActive(j, t) {
			c.active[uint32(i)] = struct{}{}
		}
	}
	c.seen = len(jobs)
	// Occupancy: the time counted (up to t0) corrected by what the records
	// added since changed in it (other nodes, other ends, records read
	// late), then the union of the nodes' intervals over the time added.
	for _, e := range eng.TakeOccEdits() {
		a, z := max(int64(e.A), 1), min(int64(e.B), t0)
		if z > a {
			c.occupied[eng.Label(uint32(e.Cluster))] += int64(e.Nodes) * (z - a)
		}
	}
	lo := t0
	if lo == 0 {
		lo = 1
	}
	if t > lo {
		for cl, sec := range eng.Occupied(time.Unix(lo, 0), time.Unix(t, 0)) {
			c.occupied[cl] += sec
		}
	}
	c.to = t
	slices.Sort(c.touched)
}

// stageCounters advances and publishes the allocation and occupancy
// counters.
func stageCounters(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	eng := in.Engine
	if eng == nil {
		return nil
	}
	if b.c == nil || b.c.eng != eng || b.c.account != in.AccountLabel {
		b.c = newCounters(eng, in.AccountLabel)
		eng.TrackChanges(true)
	}
	c := b.c
	t := c.to
	if !in.Complete.IsZero() {
		t = max(t, in.Complete.Unix())
	}
	c.advance(t)
	if in.RuleHits != nil {
		per := make(map[uint32]uint64, len(c.rules))
		for k, v := range c.rules {
			if v > 0 {
				per[k] = v
			}
		}
		s.RuleHits = in.RuleHits(per)
	}
	if in.Complete.IsZero() || eng.Len() == 0 {
		return nil
	}
	ids := make([]int32, len(c.keys))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(x, y int32) int { return compareKeys(eng, c.keys[x], c.keys[y]) })
	devs := eng.Devices()
	rateOf := map[partKey]*rates{}
	var kv keyValues
	for _, id := range ids {
		k := c.keys[id]
		cl, part, acct, class := eng.Label(uint32(k.cl)), eng.Label(uint32(k.part)), eng.Label(k.acct), k.class.String()
		r := rateOf[partKey{k.cl, k.part}]
		if r == nil {
			r = ratesFor(in.Inventory, cl, part, devs)
			rateOf[partKey{k.cl, k.part}] = r
		}
		value(&c.amts[id], c.to, r, &c.names, &kv)
		b.labels.clusters[cl] = true
		b.labels.part(cl, part)
		base := cl + "|" + part + "|" + acct + "|" + class
		a := snapshot.Allocated{Cluster: cl, Partition: part, Account: acct, Class: class,
			CoreSeconds:    b.monotone("c|"+base, kv.core),
			NodeSeconds:    b.monotone("n|"+base, kv.node),
			BillingSeconds: b.monotone("b|"+base, kv.billing)}
		for _, x := range kv.accel {
			if x.Seconds == 0 {
				continue
			}
			a.Accel = append(a.Accel, x)
			b.labels.devs[snapshot.Device{Cluster: cl, Partition: part, Kind: x.Kind, Model: x.Model}] = true
		}
		sortAccel(a.Accel)
		a.Accel = b.monotoneAccel("a|"+base, a.Accel)
		s.Allocated = append(s.Allocated, a)
	}
	for cl, sec := range c.occupied {
		b.labels.clusters[cl] = true
		s.Occupied = append(s.Occupied, snapshot.Occupied{Cluster: cl, NodeSeconds: b.monotone("o|"+cl, float64(sec))})
	}
	slices.SortFunc(s.Occupied, func(x, y snapshot.Occupied) int { return cmp.Compare(x.Cluster, y.Cluster) })
	publishFriction(b, in, s)
	return nil
}
