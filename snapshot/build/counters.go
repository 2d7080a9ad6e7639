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

// amount is what one label set held: integer resource-seconds, billing
// being derived from them with the inventory's weights when published.
type amount struct {
	core, node int64
	dev        []int64 // by engine device index
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
	alloc  map[allocKey]*amount
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
	return &counters{eng: eng, account: account, active: map[uint32]struct{}{}, alloc: map[allocKey]*amount{},
		rules: map[uint32]uint64{}, friction: map[fricKey]*fricAmount{}, occupied: map[string]int64{}, ledger: &usage.Ledger{}, slots: map[slotKey]int{}}
}

func (c *counters) key(j *usage.Job) allocKey {
	k := allocKey{cl: j.Cluster, part: j.Partition, class: j.Class}
	if c.account {
		k.acct = j.Account
	}
	return k
}

// add adds sign x what j (holding devs) held inside [lo, hi).
func (c *counters) add(j *usage.Job, devs []usage.DeviceCount, lo, hi int64, sign int64) {
	if j.Start == 0 {
		return
	}
	a, e := max(int64(j.Start), lo), int64(j.End)
	if j.End == usage.OpenEnd || e > hi {
		e = hi
	}
	if e <= a {
		return
	}
	sec := (e - a) * sign
	k := c.key(j)
	am := c.alloc[k]
	if am == nil {
		am = &amount{}
		c.alloc[k] = am
	}
	am.core += int64(j.Cores) * sec
	am.node += int64(j.Nodes) * sec
	for _, dc := range devs {
		for len(am.dev) <= int(dc.Device) {
			am.dev = append(am.dev, 0)
		}
		am.dev[dc.Device] += int64(dc.Count) * sec
	}
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
		c.add(&old, oldDevs, 1, t0, -1)
		if c.key(&old) != c.key(cur) {
			relabelled := *cur
			relabelled.Cluster, relabelled.Partition, relabelled.Account, relabelled.Class = old.Cluster, old.Partition, old.Account, old.Class
			c.add(&relabelled, curDevs, 1, t0, 1)
		} else {
			c.add(cur, curDevs, 1, t0, 1)
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
		c.add(j, devs, t0, t, 1)
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
		c.add(j, devs, 1, t, 1)
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
	keys := make([]allocKey, 0, len(c.alloc))
	for k := range c.alloc {
		keys = append(keys, k)
	}
	name := func(k allocKey) (cl, part, acct, class string) {
		return eng.Label(uint32(k.cl)), eng.Label(uint32(k.part)), eng.Label(k.acct), k.class.String()
	}
	slices.SortFunc(keys, func(x, y allocKey) int {
		xc, xp, xa, xk := name(x)
		yc, yp, ya, yk := name(y)
		return cmp.Or(cmp.Compare(xc, yc), cmp.Compare(xp, yp), cmp.Compare(xk, yk), cmp.Compare(xa, ya))
	})
	devs := eng.Devices()
	for _, k := range keys {
		am := c.alloc[k]
		cl, part, acct, class := name(k)
		b.labels.clusters[cl] = true
		b.labels.part(cl, part)
		base := cl + "|" + part + "|" + acct + "|" + class
		a := snapshot.Allocated{Cluster: cl, Partition: part, Account: acct, Class: class,
			CoreSeconds:    b.monotone("c|"+base, float64(am.core)),
			NodeSeconds:    b.monotone("n|"+base, float64(am.node)),
			BillingSeconds: b.monotone("b|"+base, billing(in, cl, part, am, devs))}
		byDev := map[[2]string]int64{}
		for di, v := range am.dev {
			if di == 0 || !devs[di].Known || v == 0 {
				continue
			}
			kind, model := DevName(devs[di].Device)
			byDev[[2]string{kind, model}] += v
		}
		for km, v := range byDev {
			a.Accel = append(a.Accel, snapshot.AccelSeconds{Kind: km[0], Model: km[1], Seconds: float64(v)})
			b.labels.devs[snapshot.Device{Cluster: cl, Partition: part, Kind: km[0], Model: km[1]}] = true
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

// billing prices an amount with the weights of its cluster and partition:
// cores, nodes and each accelerator's GRES, as the engine does.
func billing(in *Inputs, cl, part string, am *amount, devs []usage.Device) float64 {
	if in.Inventory == nil {
		return 0
	}
	c := in.Inventory.Cluster(cl)
	if c == nil {
		return 0
	}
	w := c.WeightsFor(part)
	v := w["cpu"]*float64(am.core) + w["node"]*float64(am.node)
	for di, sec := range am.dev {
		if di < len(devs) && devs[di].Known && sec != 0 {
			v += w.Accel(devs[di].GRESName, devs[di].GRESType) * float64(sec)
		}
	}
	return v
}
