package planning

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
)

// Reasons an idle resource-second is given, in the order they are
// assigned: the first three come from node states, the last three from the
// demand the records show.
const (
	// ReasonDown: the resource's node was down.
	ReasonDown = "down"
	// ReasonDrained: the node was drained or draining.
	ReasonDrained = "drained"
	// ReasonPlanned: maintenance or a reservation held the node.
	ReasonPlanned = "planned"
	// ReasonBlocked: eligible jobs waited for this very resource in the
	// same partition while it was idle (fragmentation, limits,
	// reservations, priorities): a scheduling problem.
	ReasonBlocked = "blocked"
	// ReasonMismatch: jobs waited, but only for other hardware (other
	// partitions, other accelerator models): a mix problem.
	ReasonMismatch = "mismatch"
	// ReasonNoDemand: nobody waited for anything: a planning problem.
	ReasonNoDemand = "no_demand"
)

// Reasons lists the idle reasons, a closed label set, in display order.
var Reasons = []string{ReasonDown, ReasonDrained, ReasonPlanned, ReasonBlocked, ReasonMismatch, ReasonNoDemand}

// Outage says that from From to To some of a partition's resources were
// in State (ReasonDown, ReasonDrained or ReasonPlanned): known from node
// states (scmon serve's capacity ledger), never from job records.
type Outage struct {
	Cluster, Partition string
	State              string
	From, To           time.Time
	Cores              int64
	Devices            []DeviceCount
}

// Split is one resource's capacity, allocation and idle time split by
// reason, in resource-seconds. Idle (the sum of the reasons) equals
// Capacity - Allocated + Oversubscribed exactly.
type Split struct {
	CapacitySeconds  int64 `json:"capacity_seconds"`
	AllocatedSeconds int64 `json:"allocated_seconds"`
	// OversubscribedSeconds is what jobs held beyond the capacity
	// (records that disagree with the inventory); it is idle nowhere.
	OversubscribedSeconds int64 `json:"oversubscribed_seconds,omitempty"`
	Down                  int64 `json:"down_seconds"`
	Drained               int64 `json:"drained_seconds"`
	Planned               int64 `json:"planned_seconds"`
	Blocked               int64 `json:"blocked_seconds"`
	Mismatch              int64 `json:"mismatch_seconds"`
	NoDemand              int64 `json:"no_demand_seconds"`
	// DemandSeconds is what waiting jobs asked for of this resource,
	// integrated over their wait: the pending demand.
	DemandSeconds int64 `json:"demand_seconds"`
}

// Idle returns the idle resource-seconds: the sum of the reasons.
func (s *Split) Idle() int64 {
	return s.Down + s.Drained + s.Planned + s.Blocked + s.Mismatch + s.NoDemand
}

// Reason returns the seconds of one reason by name.
func (s *Split) Reason(name string) int64 {
	switch name {
	case ReasonDown:
		return s.Down
	case ReasonDrained:
		return s.Drained
	case ReasonPlanned:
		return s.Planned
	case ReasonBlocked:
		return s.Blocked
	case ReasonMismatch:
		return s.Mismatch
	case ReasonNoDemand:
		return s.NoDemand
	}
	return 0
}

func (s *Split) add(o *Split) {
	s.CapacitySeconds += o.CapacitySeconds
	s.AllocatedSeconds += o.AllocatedSeconds
	s.OversubscribedSeconds += o.OversubscribedSeconds
	s.Down += o.Down
	s.Drained += o.Drained
	s.Planned += o.Planned
	s.Blocked += o.Blocked
	s.Mismatch += o.Mismatch
	s.NoDemand += o.NoDemand
	s.DemandSeconds += o.DemandSeconds
}

// DeviceSplit is the split of one accelerator device.
type DeviceSplit struct {
	Kind   string `json:"kind"`
	Model  string `json:"model"`
	Vendor string `json:"vendor,omitempty"`
	Split
}

// Pool is a set of partitions that share nodes (partitions with no node
// group in common are pools of their own), with its split. Idle is split
// per pool because allocation is known per partition, capacity per node
// group.
type Pool struct {
	Cluster    string        `json:"cluster"`
	Partitions []string      `json:"partitions"`
	Cores      Split         `json:"cores"`
	Devices    []DeviceSplit `json:"accelerators,omitempty"`
}

// Name returns the pool's partitions joined by "+".
func (p *Pool) Name() string { return strings.Join(p.Partitions, "+") }

// IdleBucket is the split of one period of a series.
type IdleBucket struct {
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Cores   Split         `json:"cores"`
	Devices []DeviceSplit `json:"accelerators,omitempty"`
}

// IdleSplit is the answer of Idle.
type IdleSplit struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Cores Split     `json:"cores"`
	// Accelerators sums every device; Devices splits it by kind and model.
	Accelerators Split         `json:"accelerators"`
	Devices      []DeviceSplit `json:"by_model,omitempty"`
	Pools        []Pool        `json:"pools"`
	Series       []IdleBucket  `json:"series,omitempty"`
	// NodeStates says whether down, drained and planned were known; when
	// not, such idle time is in the demand reasons.
	NodeStates bool `json:"node_states_known"`
	// Waits counts the jobs whose wait was counted, and those whose wait
	// is unknown (see Job.Waiting), of known clusters.
	WaitingJobs        int64 `json:"waiting_jobs"`
	EligibleFromSubmit int64 `json:"eligible_from_submit"`
	UnknownWaits       int64 `json:"unknown_waits"`
	// OtherClusters counts jobs of clusters the inventory does not list.
	OtherClusters int64    `json:"other_cluster_jobs,omitempty"`
	Limits        []string `json:"limits"`
}

// IdleQuery says what to split.
type IdleQuery struct {
	From, To  time.Time
	Inventory *capacity.Inventory
	// Buckets, when given, also split each of these spans (they must lie
	// in [From, To) and not overlap).
	Buckets []Span
	// Outages are the known down, drained and planned intervals; nil when
	// node states are unknown (the report's case).
	Outages []Outage
}

// Span is a half-open interval [From, To).
type Span struct{ From, To time.Time }

// idle field indexes of a key's state.
const (
	fCap = iota
	fAlloc
	fDown
	fDrained
	fPlanned
	fWait     // requested amount of waiting jobs
	fWaitJobs // number of waiting jobs asking for this resource
	nFields
)

// fWaitAll on key -1 counts the cluster's waiting jobs.
const fWaitAll = nFields

type event struct {
	t int64
	k int32 // key index, -1 for the cluster
	f uint8
	v int64
}

// resKey is one resource of one pool: cores (dev zero) or a device.
type resKey struct {
	pool  int
	cores bool
	dev   accel.Device
}

// Idle splits every idle resource-second of [q.From, q.To) by reason.
//
// For each pool and resource and each second: idle = capacity - allocated
// (zero when jobs hold more: that excess is Oversubscribed). Known outages
// take their part first (down, drained, planned, at most the idle). Of the
// rest, what the jobs waiting for this resource in this pool asked for is
// blocked; what is left is mismatch when any other job of the cluster was
// waiting (for another partition or device), else no demand.
func Idle(jobs []Job, q IdleQuery) (*IdleSplit, error) {
	if !q.To.After(q.From) {
		return nil, fmt.Errorf("idle split: window %s to %s is empty", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.Inventory == nil {
		return nil, fmt.Errorf("idle split: no capacity given")
	}
	for _, b := range q.Buckets {
		if b.From.Before(q.From) || b.To.After(q.To) || !b.To.After(b.From) {
			return nil, fmt.Errorf("idle split: bucket %s to %s is outside the window", b.From.Format(time.RFC3339), b.To.Format(time.RFC3339))
		}
	}
	out := &IdleSplit{From: q.From, To: q.To, NodeStates: q.Outages != nil}
	out.Series = make([]IdleBucket, len(q.Buckets))
	for i, b := range q.Buckets {
		out.Series[i] = IdleBucket{From: b.From, To: b.To}
	}
	known := map[string]bool{}
	for _, c := range q.Inventory.Clusters {
		known[c.Name] = true
	}
	byCluster := map[string][]*Job{}
	for i := range jobs {
		j := &jobs[i]
		if !known[j.Cluster] {
			out.OtherClusters++
			continue
		}
		byCluster[j.Cluster] = append(byCluster[j.Cluster], j)
	}
	devTotals := map[accel.Device]*Split{}
	bucketDev := make([]map[accel.Device]*Split, len(q.Buckets))
	for i := range bucketDev {
		bucketDev[i] = map[accel.Device]*Split{}
	}
	for _, c := range q.Inventory.Clusters {
		if err := idleCluster(c, byCluster[c.Name], q, out, devTotals, bucketDev); err != nil {
			return nil, err
		}
	}
	out.Devices = deviceSplits(devTotals)
	for _, d := range out.Devices {
		out.Accelerators.add(&d.Split)
	}
	for i := range out.Series {
		out.Series[i].Devices = deviceSplits(bucketDev[i])
	}
	out.Limits = idleLimits(out)
	return out, nil
}

func deviceSplits(m map[accel.Device]*Split) []DeviceSplit {
	out := make([]DeviceSplit, 0, len(m))
	for d, s := range m {
		out = append(out, DeviceSplit{Kind: d.Kind, Model: ModelName(d), Vendor: d.Vendor, Split: *s})
	}
	sortDevices(out)
	return out
}

func sortDevices(s []DeviceSplit) {
	sort.Slice(s, func(i, j int) bool {
		ki, kj := slices.Index(accel.Kinds, s[i].Kind), slices.Index(accel.Kinds, s[j].Kind)
		if ki != kj {
			return ki < kj
		}
		return s[i].Model < s[j].Model
	})
}

// ModelName names a device's model, or its kind when the model is not
// known (an untyped GRES on a partition of several models).
func ModelName(d accel.Device) string {
	if d.Model == "" {
		return d.Kind + " (unspecified)"
	}
	return d.Model
}

// pools groups a cluster's partitions that share node groups.
func pools(c *capacity.Cluster) (names [][]string, groups [][]*capacity.NodeGroup, byPartition map[string]int) {
	parent := map[*capacity.NodeGroup]*capacity.NodeGroup{}
	find := func(g *capacity.NodeGroup) *capacity.NodeGroup {
		for parent[g] != g {
			g = parent[g]
		}
		return g
	}
	for _, g := range c.NodeGroups {
		parent[g] = g
	}
	for _, p := range c.Partitions {
		for _, g := range p.NodeGroups[min(1, len(p.NodeGroups)):] {
			a, b := find(p.NodeGroups[0]), find(g)
			if a != b {
				parent[b] = a
			}
		}
	}
	root := map[*capacity.NodeGroup]int{}
	byPartition = map[string]int{}
	for _, g := range c.NodeGroups {
		r := find(g)
		i, ok := root[r]
		if !ok {
			i = len(groups)
			root[r] = i
			groups = append(groups, nil)
			names = append(names, nil)
		}
		groups[i] = append(groups[i], g)
	}
	for _, p := range c.Partitions {
		if len(p.NodeGroups) == 0 {
			continue
		}
		i := root[find(p.NodeGroups[0])]
		names[i] = append(names[i], p.Name)
		byPartition[p.Name] = i
	}
	for i := range names {
		if len(names[i]) == 0 { // nodes no partition lists
			for _, g := range groups[i] {
				names[i] = append(names[i], "("+g.Name+")")
			}
		}
	}
	return names, groups, byPartition
}

func idleCluster(c *capacity.Cluster, jobs []*Job, q IdleQuery, out *IdleSplit, devTotals map[accel.Device]*Split, bucketDev []map[accel.Device]*Split) error {
	from, to := q.From.Unix(), q.To.Unix()
	names, groups, byPartition := pools(c)
	// Jobs of partitions the inventory does not list: in the one pool when
	// there is one, else in a pool of their own with no capacity.
	unlisted := -1
	poolOf := func(partition string) int {
		if i, ok := byPartition[partition]; ok {
			return i
		}
		if len(names) == 1 {
			return 0
		}
		if unlisted < 0 {
			unlisted = len(names)
			names = append(names, []string{"(unlisted partitions)"})
			groups = append(groups, nil)
		}
		return unlisted
	}
	keys := map[resKey]int32{}
	var keyList []resKey
	key := func(k resKey) int32 {
		if i, ok := keys[k]; ok {
			return i
		}
		i := int32(len(keyList))
		keys[k] = i
		keyList = append(keyList, k)
		return i
	}
	var ev []event
	span := func(a, b time.Time, k int32, f uint8, v int64) {
		lo, hi := max(a.Unix(), from), to
		if !b.IsZero() {
			hi = min(b.Unix(), to)
		}
		if hi <= lo || v == 0 {
			return
		}
		ev = append(ev, event{lo, k, f, v}, event{hi, k, f, -v})
	}
	// Capacity: every node group's steps.
	for pi, gs := range groups {
		key(resKey{pool: pi, cores: true})
		for _, g := range gs {
			for _, a := range g.Accels {
				key(resKey{pool: pi, dev: a.Device})
			}
			for si, s := range g.Steps {
				var next time.Time
				if si+1 < len(g.Steps) {
					next = g.Steps[si+1].From
				}
				span(s.From, next, key(resKey{pool: pi, cores: true}), fCap, s.Nodes*g.Cores)
				for _, a := range g.Accels {
					span(s.From, next, key(resKey{pool: pi, dev: a.Device}), fCap, s.Nodes*a.Count)
				}
			}
		}
	}
	// Kinds a pool has, for requests of a kind without a model.
	poolModels := func(pi int, kind string) []accel.Device {
		var ds []accel.Device
		for _, g := range groups[pi] {
			for _, a := range g.Accels {
				if a.Device.Kind == kind && !slices.Contains(ds, a.Device) {
					ds = append(ds, a.Device)
				}
			}
		}
		return ds
	}
	for _, j := range jobs {
		pi := poolOf(j.Partition)
		if !j.Start.IsZero() {
			if j.End.IsZero() || j.End.After(j.Start) {
				span(j.Start, j.End, key(resKey{pool: pi, cores: true}), fAlloc, j.Cores)
				for _, d := range j.Devices {
					span(j.Start, j.End, key(resKey{pool: pi, dev: d.Device}), fAlloc, d.Count)
				}
			}
		}
		w0, w1, ok := j.Waiting(q.To)
		if !ok {
			if j.Start.IsZero() {
				out.UnknownWaits++
			}
			continue
		}
		if !w1.After(w0) || w1.Unix() <= from || w0.Unix() >= to {
			continue
		}
		out.WaitingJobs++
		if j.Eligible.IsZero() {
			out.EligibleFromSubmit++
		}
		asked := false
		if j.Cores > 0 {
			k := key(resKey{pool: pi, cores: true})
			span(w0, w1, k, fWait, j.Cores)
			span(w0, w1, k, fWaitJobs, 1)
			asked = true
		}
		for _, d := range j.Devices {
			devs := []accel.Device{d.Device}
			if d.Device.Model == "" {
				if m := poolModels(pi, d.Device.Kind); len(m) > 0 {
					devs = m // every model could serve it
				}
			}
			for _, dev := range devs {
				k := key(resKey{pool: pi, dev: dev})
				span(w0, w1, k, fWait, d.Count)
				span(w0, w1, k, fWaitJobs, 1)
			}
			asked = true
		}
		if asked {
			span(w0, w1, -1, fWaitAll, 1)
		}
	}
	for _, o := range q.Outages {
		if o.Cluster != c.Name {
			continue
		}
		var f uint8
		switch o.State {
		case ReasonDown:
			f = fDown
		case ReasonDrained:
			f = fDrained
		case ReasonPlanned:
			f = fPlanned
		default:
			return fmt.Errorf("idle split: outage of %s/%s: state %q is not down, drained or planned", o.Cluster, o.Partition, o.State)
		}
		pi := poolOf(o.Partition)
		span(o.From, o.To, key(resKey{pool: pi, cores: true}), f, o.Cores)
		for _, d := range o.Devices {
			span(o.From, o.To, key(resKey{pool: pi, dev: d.Device}), f, d.Count)
		}
	}
	// Bucket boundaries are events that change nothing.
	for _, b := range q.Buckets {
		ev = append(ev, event{b.From.Unix(), -1, fWaitAll, 0}, event{b.To.Unix(), -1, fWaitAll, 0})
	}
	slices.SortFunc(ev, func(a, b event) int { return cmp.Compare(a.t, b.t) })

	nk := len(keyList)
	state := make([][nFields]int64, nk)
	var waitAll int64
	accs := make([]Split, nk)
	bAccs := make([][]Split, len(q.Buckets))
	for i := range bAccs {
		bAccs[i] = make([]Split, nk)
	}
	bi := 0 // buckets are sorted by the caller's order; find by time
	bucketAt := func(t int64) int {
		for bi < len(q.Buckets) && q.Buckets[bi].To.Unix() <= t {
			bi++
		}
		if bi < len(q.Buckets) && q.Buckets[bi].From.Unix() <= t {
			return bi
		}
		return -1
	}
	var one Split
	prev := from
	for i := 0; i <= len(ev); i++ {
		t := to
		if i < len(ev) {
			t = ev[i].t
		}
		if t > prev {
			dt := t - prev
			b := bucketAt(prev)
			for k := range nk {
				s := &state[k]
				one = Split{}
				splitSecond(&one, s, waitAll)
				scale(&one, dt)
				accs[k].add(&one)
				if b >= 0 {
					bAccs[b][k].add(&one)
				}
			}
			prev = t
		}
		if i < len(ev) {
			e := ev[i]
			if e.k < 0 {
				waitAll += e.v
			} else {
				state[e.k][e.f] += e.v
			}
		}
	}

	// Sum keys into pools, devices and the window.
	start := len(out.Pools)
	for pi := range names {
		out.Pools = append(out.Pools, Pool{Cluster: c.Name, Partitions: names[pi]})
	}
	poolDev := make([]map[accel.Device]*Split, len(names))
	for i := range poolDev {
		poolDev[i] = map[accel.Device]*Split{}
	}
	addTo := func(m map[accel.Device]*Split, d accel.Device, s *Split) {
		if m[d] == nil {
			m[d] = &Split{}
		}
		m[d].add(s)
	}
	for k, rk := range keyList {
		p := &out.Pools[start+rk.pool]
		if rk.cores {
			p.Cores.add(&accs[k])
			out.Cores.add(&accs[k])
			for b := range bAccs {
				out.Series[b].Cores.add(&bAccs[b][k])
			}
			continue
		}
		addTo(poolDev[rk.pool], rk.dev, &accs[k])
		addTo(devTotals, rk.dev, &accs[k])
		for b := range bAccs {
			addTo(bucketDev[b], rk.dev, &bAccs[b][k])
		}
	}
	for pi := range names {
		out.Pools[start+pi].Devices = deviceSplits(poolDev[pi])
	}
	return nil
}

// splitSecond splits one second of one resource in state s.
func splitSecond(out *Split, s *[nFields]int64, waitAll int64) {
	c, a := s[fCap], s[fAlloc]
	out.CapacitySeconds, out.AllocatedSeconds = c, a
	idle := c - a
	if idle < 0 {
		out.OversubscribedSeconds = -idle
		idle = 0
	}
	take := func(v int64) int64 {
		v = max(0, min(v, idle))
		idle -= v
		return v
	}
	out.Down = take(s[fDown])
	out.Drained = take(s[fDrained])
	out.Planned = take(s[fPlanned])
	out.Blocked = take(s[fWait])
	if waitAll-s[fWaitJobs] > 0 {
		out.Mismatch = idle
	} else {
		out.NoDemand = idle
	}
	out.DemandSeconds = s[fWait]
}

func scale(s *Split, dt int64) {
	s.CapacitySeconds *= dt
	s.AllocatedSeconds *= dt
	s.OversubscribedSeconds *= dt
	s.Down *= dt
	s.Drained *= dt
	s.Planned *= dt
	s.Blocked *= dt
	s.Mismatch *= dt
	s.NoDemand *= dt
	s.DemandSeconds *= dt
}

func idleLimits(s *IdleSplit) []string {
	var l []string
	if !s.NodeStates {
		l = append(l, "node states are not in job records: down, drained and planned time is counted under the demand reasons (scmon serve's capacity ledger knows them)")
	}
	l = append(l,
		"held jobs are not eligible, and jobs still held are not in the records (sacct lists none): their demand is not counted",
		"blocked means the waiting jobs asked for no more than was idle in their partition; why they still waited (node shape, limits, reservations, priority) is not in the records")
	if s.UnknownWaits > 0 {
		l = append(l, fmt.Sprintf("%d jobs never started and are no longer pending (cancelled while waiting): the records keep no end of their wait, so it is not counted", s.UnknownWaits))
	}
	if s.EligibleFromSubmit > 0 {
		l = append(l, fmt.Sprintf("%d waiting jobs carry no Eligible time: their wait is counted from submission", s.EligibleFromSubmit))
	}
	if s.OtherClusters > 0 {
		l = append(l, fmt.Sprintf("%d jobs of clusters the inventory does not list are not counted", s.OtherClusters))
	}
	return l
}
