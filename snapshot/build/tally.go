package build

import (
	"cmp"
	"slices"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// This file is the one definition of the resource-seconds counters: how an
// allocation's units become seconds under its label set, how billing units
// are priced, and how capacity splits into allocated and idle. The daemon
// (Builder) and the backfill of past samples (Replay) both value their
// counters here and nowhere else, so their series are equal by
// construction.

// lin is a counter as a function of time: base + rate*t, in integer
// resource-seconds. An allocation that holds u units from a to b adds two
// events to it: +u at a (rate += u, base -= u*a) and -u at b (rate -= u,
// base += u*b). Read at any t at or after every event applied, it holds
// exactly u times the part of [a, b) before t, summed over allocations.
type lin struct{ base, rate int64 }

// event applies sign x (u units starting at x): sign -1 is an end, or
// takes back a start.
func (l *lin) event(u, x, sign int64) {
	d := sign * u
	l.rate += d
	l.base -= d * x
}

// at is the counter's value at t.
func (l *lin) at(t int64) int64 { return l.base + l.rate*t }

// amount is what one label set of the allocation counters holds: cores,
// nodes and each engine device (by its index).
type amount struct {
	core, node lin
	dev        []lin
	// named marks the engine devices an allocation of the label set held.
	named []bool
	// layout caches where each engine device goes in keyValues.accel
	// (-1: nowhere) and the entries' names; nil after a device is named.
	layout []int
	accel  []snapshot.AccelSeconds
}

// reserve makes room for the engine devices of devs and marks them named.
func (am *amount) reserve(devs []usage.DeviceCount) {
	for _, dc := range devs {
		for len(am.dev) <= int(dc.Device) {
			am.dev = append(am.dev, lin{})
			am.named = append(am.named, false)
		}
		if !am.named[dc.Device] {
			am.named[dc.Device] = true
			am.layout = nil
		}
	}
}

// event applies an allocation's units (j's cores and nodes, devs' counts)
// at x with sign.
func (am *amount) event(j *usage.Job, devs []usage.DeviceCount, x, sign int64) {
	am.core.event(int64(j.Cores), x, sign)
	am.node.event(int64(j.Nodes), x, sign)
	am.reserve(devs)
	for _, dc := range devs {
		am.dev[dc.Device].event(int64(dc.Count), x, sign)
	}
}

// extent is the time an allocation held its units, [s, e) or from s on
// when open; ok is false when it held nothing (not started, or ended at
// or before its start).
func extent(j *usage.Job) (s, e int64, open, ok bool) {
	if j.Start == 0 {
		return 0, 0, false, false
	}
	s = int64(j.Start)
	if j.End == usage.OpenEnd {
		return s, 0, true, true
	}
	e = int64(j.End)
	return s, e, false, e > s
}

// eventsIn applies sign x the events of j (its start and its end) that
// fall in (lo, hi] to am. An allocation's counters then hold its seconds
// before hi once every event up to hi has been applied, whatever the
// intervals they were applied in.
func (am *amount) eventsIn(j *usage.Job, devs []usage.DeviceCount, lo, hi, sign int64) {
	s, e, open, ok := extent(j)
	if !ok {
		return
	}
	if s > lo && s <= hi {
		am.event(j, devs, s, sign)
	}
	if !open && e > lo && e <= hi {
		am.event(j, devs, e, -sign)
	}
}

// rates are the billing weights of one (cluster, partition), by engine
// device index, as the accounting engine applies them.
type rates struct {
	cpu, node float64
	dev       []float64
}

// ratesFor returns the billing weights of a (cluster, partition): zero
// when the inventory does not list the cluster; accelerator weights only
// for devices the accelerator table knows.
func ratesFor(inv *capacity.Inventory, cluster, partition string, devs []usage.Device) *rates {
	r := &rates{dev: make([]float64, len(devs))}
	if inv == nil {
		return r
	}
	c := inv.Cluster(cluster)
	if c == nil {
		return r
	}
	w := c.WeightsFor(partition)
	r.cpu, r.node = w["cpu"], w["node"]
	for i, d := range devs {
		if d.Known {
			r.dev[i] = w.Accel(d.GRESName, d.GRESType)
		}
	}
	return r
}

// price is the billing-seconds of integer core-, node- and device-seconds.
func (r *rates) price(core, node int64, dev func(i int) int64, ndev int) float64 {
	v := r.cpu*float64(core) + r.node*float64(node)
	for i := range min(ndev, len(r.dev)) {
		if r.dev[i] == 0 {
			continue
		}
		if sec := dev(i); sec != 0 {
			v += r.dev[i] * float64(sec)
		}
	}
	return v
}

// devNames names engine devices by their (kind, model) labels, once.
type devNames struct {
	eng   *usage.Store
	names [][2]string
	known []bool
}

// name returns the labels of engine device i and whether it is a known
// accelerator (index 0 and unknown GRES are not).
func (n *devNames) name(i int) (kind, model string, ok bool) {
	devs := n.eng.Devices()
	for len(n.names) < len(devs) {
		d := devs[len(n.names)]
		k, m := DevName(d.Device)
		n.names = append(n.names, [2]string{k, m})
		n.known = append(n.known, d.Known && len(n.names) > 1)
	}
	if i <= 0 || i >= len(n.names) || !n.known[i] {
		return "", "", false
	}
	return n.names[i][0], n.names[i][1], true
}

// keyValues are one label set's counters at one instant.
type keyValues struct {
	core, node, billing float64
	// accel sums the known devices the label set's allocations held by
	// (kind, model), in the order of their first engine index.
	accel []snapshot.AccelSeconds
}

// value fills kv with am at t, priced with r.
func value(am *amount, t int64, r *rates, names *devNames, kv *keyValues) {
	core, node := am.core.at(t), am.node.at(t)
	kv.core, kv.node = float64(core), float64(node)
	v := r.cpu*float64(core) + r.node*float64(node)
	for i := range min(len(am.dev), len(r.dev)) {
		if r.dev[i] == 0 {
			continue
		}
		if sec := am.dev[i].at(t); sec != 0 {
			v += r.dev[i] * float64(sec)
		}
	}
	kv.billing = v
	if am.layout == nil {
		am.layout = make([]int, len(am.dev))
		am.accel = am.accel[:0]
		for i := range am.dev {
			am.layout[i] = -1
			kind, model, ok := names.name(i)
			if !ok || !am.named[i] {
				continue
			}
			pos := slices.IndexFunc(am.accel, func(a snapshot.AccelSeconds) bool { return a.Kind == kind && a.Model == model })
			if pos < 0 {
				pos = len(am.accel)
				am.accel = append(am.accel, snapshot.AccelSeconds{Kind: kind, Model: model})
			}
			am.layout[i] = pos
		}
	}
	kv.accel = append(kv.accel[:0], am.accel...)
	for i, pos := range am.layout {
		if pos >= 0 {
			kv.accel[pos].Seconds += float64(am.dev[i].at(t))
		}
	}
}

// capPart is the capacity a partition counts: each node group of a
// cluster counts under the first partition that lists it (a group no
// partition lists under partition ""), so that partitions sum to the
// cluster.
type capPart struct {
	cluster, partition string
	groups             []*capacity.NodeGroup
	// cores and billing are per node of each group; devs per device model.
	cores, billing []float64
	devs           []capDev
	rates          *rates
}

// capDev is one accelerator (kind, model) of a partition's groups.
type capDev struct {
	kind, model string
	group       []int // indexes of capPart.groups
	count       []float64
	// eng lists the engine devices of this (kind, model), among the
	// first engN.
	eng  []int
	engN int
}

// capacityPlan lists the partitions that count capacity: per cluster of
// the inventory, by partition name.
func capacityPlan(inv *capacity.Inventory, devs []usage.Device) []capPart {
	if inv == nil {
		return nil
	}
	var out []capPart
	for _, c := range inv.Clusters {
		first := len(out)
		owner := map[*capacity.NodeGroup]string{}
		for _, p := range c.Partitions {
			for _, g := range p.NodeGroups {
				if _, ok := owner[g]; !ok {
					owner[g] = p.Name
				}
			}
		}
		at := map[string]int{}
		for _, g := range c.NodeGroups {
			part := owner[g]
			pi, ok := at[part]
			if !ok {
				pi = len(out)
				at[part] = pi
				out = append(out, capPart{cluster: c.Name, partition: part, rates: ratesFor(inv, c.Name, part, devs)})
			}
			p := &out[pi]
			gi := len(p.groups)
			p.groups = append(p.groups, g)
			p.cores = append(p.cores, float64(g.Cores))
			p.billing = append(p.billing, c.WeightsFor(part).Billing(g.Cores, 1, g.Accels))
			for _, a := range g.Accels {
				kind, model := DevName(a.Device)
				di := slices.IndexFunc(p.devs, func(d capDev) bool { return d.kind == kind && d.model == model })
				if di < 0 {
					di = len(p.devs)
					p.devs = append(p.devs, capDev{kind: kind, model: model})
				}
				d := &p.devs[di]
				if n := len(d.group); n > 0 && d.group[n-1] == gi {
					d.count[n-1] += float64(a.Count)
					continue
				}
				d.group = append(d.group, gi)
				d.count = append(d.count, float64(a.Count))
			}
		}
		slices.SortFunc(out[first:], func(a, b capPart) int { return cmp.Compare(a.partition, b.partition) })
	}
	return out
}

// capValues are a partition's capacity counters at one instant: allocated
// and idle, in the order of capPart.devs for the devices.
type capValues struct {
	coreAlloc, coreIdle       float64
	billingAlloc, billingIdle float64
	devAlloc, devIdle         []float64
	ns                        []float64 // scratch: node-seconds per group
}

// capacityAt values p's capacity from origin to t. held are the
// partition's allocation counters at t summed (integers: cores, nodes and
// engine devices), names the engine's devices. Allocated is what the
// partition's jobs held, at most its capacity (a site that oversubscribes
// is clamped, as sreport does); idle is the rest, so the states sum to the
// capacity.
func (p *capPart) capacityAt(origin, t int64, held *heldSum, names *devNames, out *capValues) {
	var totCores, totBilling float64
	out.devAlloc = slices.Grow(out.devAlloc[:0], len(p.devs))[:len(p.devs)]
	out.devIdle = slices.Grow(out.devIdle[:0], len(p.devs))[:len(p.devs)]
	clear(out.devAlloc)
	clear(out.devIdle)
	var ns []float64
	if t > origin {
		ns = slices.Grow(out.ns[:0], len(p.groups))[:len(p.groups)]
		out.ns = ns
		from, to := time.Unix(origin, 0), time.Unix(t, 0)
		for gi, g := range p.groups {
			ns[gi] = float64(g.NodeSeconds(from, to))
			totCores += ns[gi] * p.cores[gi]
			totBilling += ns[gi] * p.billing[gi]
		}
	}
	heldBilling := p.rates.price(held.core, held.node, func(i int) int64 { return held.dev[i] }, len(held.dev))
	out.coreAlloc = min(float64(held.core), totCores)
	out.coreIdle = totCores - out.coreAlloc
	out.billingAlloc = min(heldBilling, totBilling)
	out.billingIdle = totBilling - out.billingAlloc
	for di := range p.devs {
		d := &p.devs[di]
		var total float64
		if ns != nil {
			for k, gi := range d.group {
				total += ns[gi] * d.count[k]
			}
		}
		if d.engN != len(held.dev) {
			d.eng = d.eng[:0]
			for i := range held.dev {
				if kind, model, ok := names.name(i); ok && kind == d.kind && model == d.model {
					d.eng = append(d.eng, i)
				}
			}
			d.engN = len(held.dev)
		}
		var used int64
		for _, i := range d.eng {
			used += held.dev[i]
		}
		out.devAlloc[di] = min(float64(used), total)
		out.devIdle[di] = total - out.devAlloc[di]
	}
}

// heldSum is the sum of several label sets' counters at one instant.
type heldSum struct {
	core, node int64
	dev        []int64
}

// add adds am at t.
func (h *heldSum) add(am *amount, t int64) {
	h.core += am.core.at(t)
	h.node += am.node.at(t)
	for len(h.dev) < len(am.dev) {
		h.dev = append(h.dev, 0)
	}
	for i := range am.dev {
		h.dev[i] += am.dev[i].at(t)
	}
}

func (h *heldSum) reset() {
	h.core, h.node = 0, 0
	clear(h.dev)
}

// partKey is a (cluster, partition) in engine labels.
type partKey struct{ cl, part uint16 }

// compareKeys orders allocation label sets by cluster, partition, class
// and account names.
func compareKeys(eng *usage.Store, x, y allocKey) int {
	return cmp.Or(cmp.Compare(eng.Label(uint32(x.cl)), eng.Label(uint32(y.cl))),
		cmp.Compare(eng.Label(uint32(x.part)), eng.Label(uint32(y.part))),
		cmp.Compare(x.class.String(), y.class.String()),
		cmp.Compare(eng.Label(x.acct), eng.Label(y.acct)))
}
