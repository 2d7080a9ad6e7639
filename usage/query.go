package usage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
)

// Key is a grouping dimension.
type Key string

// The grouping keys.
const (
	KeyCluster   Key = "cluster"
	KeyPartition Key = "partition"
	KeyAccount   Key = "account"
	KeyUser      Key = "user"
	KeyClass     Key = "class"
	KeyKind      Key = "kind"
	KeyModel     Key = "model"
)

// Keys lists every grouping key.
var Keys = []Key{KeyCluster, KeyPartition, KeyAccount, KeyUser, KeyClass, KeyKind, KeyModel}

// ParseKeys reads a comma-separated list of grouping keys.
func ParseKeys(s string) ([]Key, error) {
	if s == "" {
		return nil, nil
	}
	var out []Key
	for _, part := range strings.Split(s, ",") {
		k := Key(strings.TrimSpace(strings.ToLower(part)))
		if !slices.Contains(Keys, k) {
			return nil, fmt.Errorf("unknown grouping key %q (known: %v)", part, Keys)
		}
		if slices.Contains(out, k) {
			return nil, fmt.Errorf("grouping key %q is given twice", k)
		}
		out = append(out, k)
	}
	return out, nil
}

// Query says what to compute.
type Query struct {
	// From and To bound the window [From, To).
	From, To time.Time
	// By groups the figures; empty means totals only.
	By []Key
	// Every splits the window into calendar periods; "" means no series.
	Every Period
	// Location gives the calendar of Every (days, weeks and months start
	// at local midnight; a day with a daylight-saving change is 23 or 25
	// hours long). Nil means UTC.
	Location *time.Location
	// Inventory gives capacity and billing weights; nil gives allocated
	// figures only.
	Inventory *capacity.Inventory
	// MaxCells, when positive, bounds the groups times the periods of the
	// answer (each group holds one figure per period): a query that would
	// pass it stops as soon as it does, with an error wrapping
	// ErrTooLarge, before its memory grows with the answer.
	MaxCells int
}

// ErrTooLarge marks a query whose answer would pass Query.MaxCells.
var ErrTooLarge = errors.New("answer too large")

// Amount is what a set of allocations held inside a window.
type Amount struct {
	// Jobs counts allocations that held resources inside the window.
	Jobs           int64
	CoreSeconds    int64
	NodeSeconds    int64
	AccelSeconds   int64
	BillingSeconds float64
	// Device splits resource-seconds by the store's device table (the
	// index of Store.Devices); unknown GRES are there but not in
	// AccelSeconds.
	Device []int64
}

func (a *Amount) add(o *Amount) {
	a.Jobs += o.Jobs
	a.CoreSeconds += o.CoreSeconds
	a.NodeSeconds += o.NodeSeconds
	a.AccelSeconds += o.AccelSeconds
	a.BillingSeconds += o.BillingSeconds
	if len(a.Device) < len(o.Device) {
		a.Device = append(a.Device, make([]int64, len(o.Device)-len(a.Device))...)
	}
	for i, v := range o.Device {
		a.Device[i] += v
	}
}

// Usage is an Amount per class, indexed by job.Class.
type Usage [4]Amount

// Total sums all classes.
func (u *Usage) Total() Amount {
	var t Amount
	for i := range u {
		t.add(&u[i])
	}
	return t
}

// AI sums the AI classes.
func (u *Usage) AI() Amount {
	var t Amount
	t.add(&u[job.ClassAITraining])
	t.add(&u[job.ClassAIInference])
	return t
}

// Figures pairs what was allocated with what was available.
type Figures struct {
	Allocated Usage
	// Capacity is nil where capacity has no meaning (a group by account)
	// or no inventory was given.
	Capacity *capacity.Totals
	// CoreCapacity reports whether Capacity's core, node and billing
	// figures apply (false when grouped by accelerator kind or model: then
	// only the accelerator figures of Capacity are meaningful).
	CoreCapacity bool
	// OccupiedNodeSeconds are the node-seconds during which at least one
	// allocation held the node: per node, the union of the allocations'
	// intervals, so a node shared by several jobs counts once. Allocations
	// without a usable node list count NNodes x time (Stats.NoNodeList).
	OccupiedNodeSeconds int64
	// Occupancy reports whether OccupiedNodeSeconds applies: for the
	// window, its periods and groups by cluster alone. A node is not owned
	// by an account, a class or a partition, so other groups have none.
	Occupancy bool
}

// Bucket is one period of a series.
type Bucket struct {
	From, To time.Time
	Figures
}

// Group is the figures of one combination of grouping values.
type Group struct {
	// Values holds one value per key of Query.By.
	Values []string
	Figures
	Series []Bucket
}

// Result is the answer to a Query.
type Result struct {
	From, To time.Time
	Figures
	Series []Bucket
	Groups []Group
	// Devices is the store's device table, to name Amount.Device entries.
	Devices []Device
	// NoCapacity is the allocation of clusters the inventory does not list.
	NoCapacity Amount
	// NoCapacityClusters names them.
	NoCapacityClusters []string
}

// billingRates are the billing weights of one (cluster, partition), by
// store device index.
type billingRates struct {
	cpu, node float64
	dev       []float64
}

// Compute answers q over the store. Each allocation contributes its count
// times its overlap with the window (and with each bucket); allocations
// still running count up to the window's end.
func (s *Store) Compute(q Query) (*Result, error) {
	return s.ComputeContext(context.Background(), q)
}

// cancelEvery is how many allocations ComputeContext attributes between
// two looks at its context.
const cancelEvery = 1 << 14

// ComputeContext is Compute that stops, with ctx's error, when ctx ends (a
// client that went away, a timeout).
func (s *Store) ComputeContext(ctx context.Context, q Query) (*Result, error) {
	if !q.To.After(q.From) {
		return nil, fmt.Errorf("window %s to %s is empty", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.Location == nil {
		q.Location = time.UTC
	}
	from, to := q.From.Unix(), q.To.Unix()
	if n := MaxBuckets(q.From, q.To, q.Every); q.MaxCells > 0 && n > int64(q.MaxCells)+2 {
		return nil, fmt.Errorf("%w: up to %d %s periods, more than %d", ErrTooLarge, n, q.Every, q.MaxCells)
	}
	buckets, err := Buckets(q.From, q.To, q.Every, q.Location)
	if err != nil {
		return nil, err
	}
	periods := max(len(buckets), 1)
	if q.MaxCells > 0 && periods > q.MaxCells {
		return nil, fmt.Errorf("%w: %d periods, more than %d", ErrTooLarge, periods, q.MaxCells)
	}
	bstart := make([]int64, len(buckets))
	bend := make([]int64, len(buckets))
	for i, b := range buckets {
		bstart[i], bend[i] = b.From.Unix(), b.To.Unix()
	}
	byCluster := len(q.By) == 1 && q.By[0] == KeyCluster
	nd := len(s.devs)
	res := &Result{From: q.From, To: q.To, Devices: slices.Clone(s.devs)}
	newUsage := func() Usage {
		var u Usage
		for i := range u {
			u[i].Device = make([]int64, nd)
		}
		return u
	}
	res.Allocated = newUsage()
	res.Occupancy = true
	res.NoCapacity.Device = make([]int64, nd)
	res.Series = make([]Bucket, len(buckets))
	for i, b := range buckets {
		res.Series[i] = Bucket{From: b.From, To: b.To, Figures: Figures{Allocated: newUsage(), Occupancy: true}}
	}

	// Billing rates and capacity coverage per (cluster, partition) label.
	rates := map[[2]uint16]*billingRates{}
	known := map[uint16]bool{}
	if q.Inventory != nil {
		for i, name := range s.strs {
			if c := q.Inventory.Cluster(name); c != nil && i <= 0xFFFF {
				known[uint16(i)] = true
			}
		}
	}
	rateOf := func(j *Job) *billingRates {
		k := [2]uint16{j.Cluster, j.Partition}
		if r, ok := rates[k]; ok {
			return r
		}
		r := &billingRates{dev: make([]float64, nd)}
		if q.Inventory != nil {
			if c := q.Inventory.Cluster(s.strs[j.Cluster]); c != nil {
				w := c.WeightsFor(s.strs[j.Partition])
				r.cpu, r.node = w["cpu"], w["node"]
				for di, d := range s.devs {
					if d.Known {
						r.dev[di] = w.Accel(d.GRESName, d.GRESType)
					}
				}
			}
		}
		rates[k] = r
		return r
	}

	groupIdx := map[string]int{}
	// Past MaxCells, groups go to scratch and the query stops at the next
	// allocation.
	var scratch *Group
	tooLarge := false
	var vals []string
	var keyBuf []byte
	groupFor := func(j *Job, dev uint16) *Group {
		vals = vals[:0]
		keyBuf = keyBuf[:0]
		for _, k := range q.By {
			v := s.groupValue(j, dev, k)
			vals = append(vals, v)
			keyBuf = append(keyBuf, v...)
			keyBuf = append(keyBuf, 0x1f)
		}
		gi, ok := groupIdx[string(keyBuf)] // no allocation for the lookup
		if !ok {
			if q.MaxCells > 0 && (len(res.Groups)+1)*periods > q.MaxCells {
				tooLarge = true
				if scratch == nil {
					scratch = &Group{Figures: Figures{Allocated: newUsage()}, Series: make([]Bucket, len(buckets))}
					for i := range scratch.Series {
						scratch.Series[i].Allocated = newUsage()
					}
				}
				return scratch
			}
			gi = len(res.Groups)
			groupIdx[string(keyBuf)] = gi
			g := Group{Values: slices.Clone(vals), Figures: Figures{Allocated: newUsage(), Occupancy: byCluster}}
			if len(buckets) > 0 {
				g.Series = make([]Bucket, len(buckets))
				for i, b := range buckets {
					g.Series[i] = Bucket{From: b.From, To: b.To, Figures: Figures{Allocated: newUsage(), Occupancy: byCluster}}
				}
			}
			res.Groups = append(res.Groups, g)
		}
		return &res.Groups[gi]
	}

	var one [1]DeviceCount
	noCapClusters := map[uint16]bool{}
	for i := range s.jobs {
		if i%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if tooLarge {
			return nil, fmt.Errorf("%w: more than %d groups x %d periods, the most one answer holds is %d", ErrTooLarge, len(res.Groups), periods, q.MaxCells)
		}
		j := &s.jobs[i]
		if j.Start == 0 {
			continue
		}
		a, b := int64(j.Start), int64(j.End)
		if j.End == openEnd || b > to {
			b = to
		}
		if a < from {
			a = from
		}
		if b <= a {
			continue
		}
		devs := s.JobDevices(i)
		r := rateOf(j)
		cls := j.Class
		if int(cls) >= len(res.Allocated) {
			cls = job.ClassUnknown
		}
		add := func(u *Usage, sec int64, devShare []DeviceCount, withHost bool) {
			am := &u[cls]
			if withHost {
				am.Jobs++
				am.CoreSeconds += int64(j.Cores) * sec
				am.NodeSeconds += int64(j.Nodes) * sec
				am.BillingSeconds += (r.cpu*float64(j.Cores) + r.node*float64(j.Nodes)) * float64(sec)
			}
			for _, dc := range devShare {
				ds := int64(dc.Count) * sec
				am.Device[dc.Device] += ds
				if s.devs[dc.Device].Known {
					am.AccelSeconds += ds
					am.BillingSeconds += r.dev[dc.Device] * float64(ds)
				}
			}
		}
		noCap := q.Inventory != nil && !known[j.Cluster]
		if noCap {
			noCapClusters[j.Cluster] = true
		}
		// An allocation without a usable node list occupies NNodes x time.
		unlisted := j.Nodes > 0 && s.occ.isUnlisted(uint32(i))
		attribute := func(sec int64, bucket int) {
			if unlisted {
				ns := int64(j.Nodes) * sec
				if bucket < 0 {
					res.OccupiedNodeSeconds += ns
				} else {
					res.Series[bucket].OccupiedNodeSeconds += ns
				}
				if byCluster {
					g := groupFor(j, noDevice)
					if bucket < 0 {
						g.OccupiedNodeSeconds += ns
					} else {
						g.Series[bucket].OccupiedNodeSeconds += ns
					}
				}
			}
			if bucket < 0 {
				if noCap {
					var u Usage
					u[cls].Device = res.NoCapacity.Device
					add(&u, sec, devs, true)
					u[cls].Device = nil
					res.NoCapacity.add(&u[cls])
				}
				add(&res.Allocated, sec, devs, true)
			} else {
				add(&res.Series[bucket].Allocated, sec, devs, true)
			}
			if len(q.By) == 0 {
				return
			}
			if !groupsSplitDevices(q.By) || len(devs) <= 1 {
				dev := uint16(noDevice)
				if len(devs) == 1 {
					dev = devs[0].Device
				}
				g := groupFor(j, dev)
				if bucket < 0 {
					add(&g.Allocated, sec, devs, true)
				} else {
					add(&g.Series[bucket].Allocated, sec, devs, true)
				}
				return
			}
			// Grouped by device: each device goes to its own group, the
			// host resources to the group of the first device.
			for k := range devs {
				one[0] = devs[k]
				g := groupFor(j, devs[k].Device)
				if bucket < 0 {
					add(&g.Allocated, sec, one[:], k == 0)
				} else {
					add(&g.Series[bucket].Allocated, sec, one[:], k == 0)
				}
			}
		}
		attribute(b-a, -1)
		if len(buckets) > 0 {
			bi := sort.Search(len(bstart), func(k int) bool { return bstart[k] > a }) - 1
			for ; bi < len(buckets) && bi >= 0; bi++ {
				lo, hi := bstart[bi], buckets[bi].To.Unix()
				if lo >= b {
					break
				}
				if lo < a {
					lo = a
				}
				if hi > b {
					hi = b
				}
				if hi > lo {
					attribute(hi-lo, bi)
				}
			}
		}
	}
	if tooLarge {
		return nil, fmt.Errorf("%w: more than %d groups x %d periods, the most one answer holds is %d", ErrTooLarge, len(res.Groups), periods, q.MaxCells)
	}
	// Listed allocations: the union of intervals, node by node.
	occ, occBuckets := s.occupiedSpread(from, to, bstart, bend)
	for cl, sec := range occ {
		res.OccupiedNodeSeconds += sec
		var g *Group
		if byCluster {
			if gi, ok := groupIdx[s.strs[cl]+"\x1f"]; ok {
				g = &res.Groups[gi]
				g.OccupiedNodeSeconds += sec
			}
		}
		for k, v := range occBuckets[cl] {
			res.Series[k].OccupiedNodeSeconds += v
			if g != nil {
				g.Series[k].OccupiedNodeSeconds += v
			}
		}
	}
	for c := range noCapClusters {
		res.NoCapacityClusters = append(res.NoCapacityClusters, s.strs[c])
	}
	sort.Strings(res.NoCapacityClusters)
	sort.Slice(res.Groups, func(a, b int) bool {
		return slices.Compare(res.Groups[a].Values, res.Groups[b].Values) < 0
	})
	if q.Inventory != nil {
		s.fillCapacity(q, res)
	}
	return res, nil
}

func groupsSplitDevices(by []Key) bool {
	return slices.Contains(by, KeyKind) || slices.Contains(by, KeyModel)
}

// groupValue returns job j's value for key k; dev is the device the
// group is for when grouping by kind or model.
func (s *Store) groupValue(j *Job, dev uint16, k Key) string {
	switch k {
	case KeyCluster:
		return s.strs[j.Cluster]
	case KeyPartition:
		return s.strs[j.Partition]
	case KeyAccount:
		return s.strs[j.Account]
	case KeyUser:
		return s.strs[j.User]
	case KeyClass:
		return j.Class.String()
	case KeyKind, KeyModel:
		if dev == noDevice {
			return "none"
		}
		d := s.devs[dev]
		if !d.Known {
			return "unmapped"
		}
		if k == KeyKind {
			return d.Kind
		}
		if d.Model == "" {
			return d.Kind + " (unspecified)"
		}
		return d.Model
	}
	return ""
}

// fillCapacity sets the capacity of the totals, the buckets and the groups
// whose keys have a capacity (cluster, partition, accelerator kind and model).
func (s *Store) fillCapacity(q Query, res *Result) {
	total := func(from, to time.Time) *capacity.Totals {
		var t capacity.Totals
		for _, c := range q.Inventory.Clusters {
			t.Add(c.Total(from, to))
		}
		return &t
	}
	res.Capacity, res.CoreCapacity = total(res.From, res.To), true
	for i := range res.Series {
		b := &res.Series[i]
		b.Capacity, b.CoreCapacity = total(b.From, b.To), true
	}
	for _, k := range q.By {
		switch k {
		case KeyCluster, KeyPartition, KeyKind, KeyModel:
		default:
			return
		}
	}
	hostCap := !groupsSplitDevices(q.By)
	for gi := range res.Groups {
		g := &res.Groups[gi]
		cap := func(from, to time.Time) *capacity.Totals {
			var t capacity.Totals
			for _, c := range q.Inventory.Clusters {
				if v, ok := value(q.By, g.Values, KeyCluster); ok && v != c.Name {
					continue
				}
				var ct capacity.Totals
				if v, ok := value(q.By, g.Values, KeyPartition); ok {
					p := c.Partition(v)
					if p == nil {
						continue
					}
					ct = c.PartitionTotal(p, from, to)
				} else {
					ct = c.Total(from, to)
				}
				if groupsSplitDevices(q.By) {
					ct = filterDevices(ct, q.By, g.Values)
				}
				t.Add(ct)
			}
			return &t
		}
		g.Capacity, g.CoreCapacity = cap(res.From, res.To), hostCap
		for i := range g.Series {
			b := &g.Series[i]
			b.Capacity, b.CoreCapacity = cap(b.From, b.To), hostCap
		}
	}
}

func value(by []Key, vals []string, k Key) (string, bool) {
	for i, b := range by {
		if b == k {
			return vals[i], true
		}
	}
	return "", false
}

// filterDevices keeps the accelerator capacity of the devices matching the
// group's kind and model.
func filterDevices(t capacity.Totals, by []Key, vals []string) capacity.Totals {
	kind, hasKind := value(by, vals, KeyKind)
	model, hasModel := value(by, vals, KeyModel)
	out := capacity.Totals{}
	for d, sec := range t.ByDevice {
		name := d.Model
		if name == "" {
			name = d.Kind + " (unspecified)"
		}
		if (hasKind && d.Kind != kind) || (hasModel && name != model) {
			continue
		}
		out.AccelSeconds += sec
		if out.ByDevice == nil {
			out.ByDevice = map[accel.Device]int64{}
		}
		out.ByDevice[d] += sec
	}
	return out
}
