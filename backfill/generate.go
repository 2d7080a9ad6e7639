package backfill

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// MaxPoints bounds the samples per series of one run (a year at a
// one-second step would be 31.5 million): beyond it the step is almost
// certainly a mistake.
const MaxPoints = 10_000_000

// chunkBudget is the number of float64 values a chunk's buffers hold per
// array when Options.ChunkSteps is zero: about 8 MiB each, whatever the
// series count.
const chunkBudget = 1 << 20

// openEnd is the usage store's end time of an allocation still running.
const openEnd = math.MaxUint32

// Options say which samples to generate.
type Options struct {
	// From is the time of the first sample and To the latest time a sample
	// may have: samples are taken at From, From+Step, ... up to and
	// including To when it falls on the grid. Both are truncated to whole
	// seconds.
	From, To time.Time
	// Step is the spacing of the samples, a whole number of seconds.
	Step time.Duration
	// Inventory gives the capacity counters and the billing weights; nil
	// leaves capacity and billing at zero (the series are still emitted,
	// as the exporter emits its closed label sets).
	Inventory *capacity.Inventory
	// AccountLabel adds the account label to the allocated families, as
	// the daemon's metrics.account_label does.
	AccountLabel bool
	// Labels are added to every series, after the family's own labels:
	// typically the job and instance labels that Prometheus attaches to
	// the scraped series, so that backfilled and live data are one series.
	Labels []Label
	// DeviceOrigin gives the origin label (domestic, imported, unknown) of
	// an accelerator, as the daemon's accelerator table does (nil: by its
	// vendor). A (kind, model) takes the origin of its first device, the
	// inventory's before the records', as the daemon does.
	DeviceOrigin func(accel.Device) string
	// ChunkSteps is the number of samples per series computed at a time;
	// zero chooses it so that a chunk holds about a million values.
	ChunkSteps int
}

// Chunk is the samples of every series over consecutive grid points.
type Chunk struct {
	// First is the grid index of the chunk's first sample (0 for From).
	First int
	// Len is the number of samples of each series in the chunk.
	Len int
	// Start is the time of the chunk's first sample and Step the spacing,
	// both in seconds.
	Start, Step int64
	// Values holds Len values per series, series after series in the
	// order of Generator.Series: Values[s*Len+i] is series s at sample i.
	Values []float64
}

// Time returns the time of sample i in Unix seconds.
func (c *Chunk) Time(i int) int64 { return c.Start + int64(i)*c.Step }

// Series returns the values of series s.
func (c *Chunk) Series(s int) []float64 { return c.Values[s*c.Len : (s+1)*c.Len] }

// jobRef is an allocation that contributes to the output: its index in the
// store and its host key (an index of Generator.hosts).
type jobRef struct {
	idx  uint32
	host int32
}

// hostKey names the series of the host families (core, node, billing).
type hostKey struct {
	cluster, partition, account, class string
}

// devKey names one accelerator model of a partition.
type devKey struct {
	cluster, partition, kind, model string
}

// accKey names a series of the allocated accelerator family.
type accKey struct {
	host        int32
	kind, model string
}

// rates are the billing weights of a host key's (cluster, partition), by
// store device index, as usage.Compute applies them.
type rates struct {
	cpu, node float64
	dev       []float64
}

// plan computes one resource's capacity states: the capacity of some node
// groups times a per-node count, split into allocated (the allocation
// series' increments, at most the capacity) and idle (the rest).
type plan struct {
	groups         []int     // indexes of Generator.groups
	mult           []float64 // per group: cores, devices or billing units per node
	sources        []int32   // series whose increments are allocation
	allocated, idl int32     // series receiving the states
}

// Generator computes the counters' values at every grid point, chunk
// after chunk in time order. It reads the store and inventory it was made
// with and must be used by one goroutine; the store must not change while
// it runs.
type Generator struct {
	store *usage.Store
	opts  Options
	fams  [numFamilies]Family
	// series in output order: by family, then by label values.
	series  []Series
	famBase [numFamilies + 1]int32

	from, step, origin int64
	points, chunk      int

	hosts    []hostKey
	hostRate []*rates
	accIdx   map[[2]int32]int32 // (host, store device) -> accelerator series; -1 if none
	refs     []jobRef           // by start time
	byEnd    []int32            // indexes of refs, by end time (ended allocations only)
	groups   []*capacity.NodeGroup
	plans    []plan
	origins  map[[2]string]string // (kind, model) -> origin label

	// State between chunks.
	next, si, ei int
	level        []float64 // per series: rate held at the current chunk's start
	cum          []float64 // per series: value at the last sample emitted

	// Chunk buffers.
	part, delta, groupSec []float64
	out                   Chunk
}

// New prepares a Generator over the allocations of store. It collects the
// closed label sets the exporter would emit at opts.To: every partition of
// the inventory and every partition a job ran in, crossed with every class
// (or every account seen) and every capacity state, zeros included.
func New(store *usage.Store, opts Options) (*Generator, error) {
	if opts.Step < time.Second || opts.Step%time.Second != 0 {
		return nil, fmt.Errorf("step %s: want a whole number of seconds, at least 1s", opts.Step)
	}
	from, to := opts.From.Unix(), opts.To.Unix()
	if to < from {
		return nil, fmt.Errorf("window %s to %s is empty", opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339))
	}
	step := int64(opts.Step / time.Second)
	points := (to-from)/step + 1
	if points > MaxPoints {
		return nil, fmt.Errorf("%d samples per series from %s to %s every %s: more than %d, choose a longer step or a shorter window",
			points, opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339), opts.Step, MaxPoints)
	}
	if err := checkExtraLabels(opts.Labels); err != nil {
		return nil, err
	}
	fams, err := families(opts.AccountLabel)
	if err != nil {
		return nil, err
	}
	g := &Generator{store: store, opts: opts, fams: fams,
		from: from, step: step, points: int(points), accIdx: map[[2]int32]int32{}}
	last := from + (points-1)*step

	// Pass 1: the allocations that held something before the last sample
	// (they name the label sets), and the label sets they name.
	jobs := store.Jobs()
	devs := store.Devices()
	g.origins = deviceOrigins(opts, devs)
	pairs := map[[2]string]bool{}
	devices := map[devKey]bool{}
	named := map[hostKey]bool{} // account mode: the account keys jobs name
	g.origin = math.MaxInt64
	var refs []jobRef
	for i := range jobs {
		j := &jobs[i]
		if j.Start == 0 && j.State == job.StatePending && j.Submit != 0 && int64(j.Submit) < to {
			// The exporter also names the partitions and devices of the
			// jobs waiting at the end (a job waiting on several
			// partitions in the first; an untyped request as the one model
			// of its kind the partition has, else "<kind> (unspecified)"),
			// in every family: always zero here.
			k := g.hostKeyOf(j)
			k.partition, _, _ = strings.Cut(k.partition, ",")
			pairs[[2]string{k.cluster, k.partition}] = true
			for _, dc := range store.JobDevices(i) {
				if d := devs[dc.Device]; d.Known {
					kind, model := deviceName(opts.Inventory.ResolveDevice(k.cluster, k.partition, d.Device))
					devices[devKey{k.cluster, k.partition, kind, model}] = true
				}
			}
			continue
		}
		if j.Start == 0 || (j.End != openEnd && j.End <= j.Start) || int64(j.Start) >= to {
			continue
		}
		g.origin = min(g.origin, int64(j.Start))
		refs = append(refs, jobRef{idx: uint32(i)})
		k := g.hostKeyOf(j)
		pairs[[2]string{k.cluster, k.partition}] = true
		if opts.AccountLabel {
			named[k] = true
		}
		for _, dc := range store.JobDevices(i) {
			if d := devs[dc.Device]; d.Known {
				kind, model := deviceName(d.Device)
				devices[devKey{k.cluster, k.partition, kind, model}] = true
			}
		}
	}
	if len(refs) == 0 {
		g.origin = 0
	}
	if opts.Inventory != nil {
		for _, c := range opts.Inventory.Clusters {
			owned := map[*capacity.NodeGroup]bool{}
			for _, p := range c.Partitions {
				pairs[[2]string{c.Name, p.Name}] = true
				for _, ng := range p.NodeGroups {
					owned[ng] = true
					for _, a := range ng.Accels {
						kind, model := deviceName(a.Device)
						devices[devKey{c.Name, p.Name, kind, model}] = true
					}
				}
			}
			// A node group no partition lists counts under partition "",
			// as the daemon's capacity counters put it.
			for _, ng := range c.NodeGroups {
				if !owned[ng] {
					pairs[[2]string{c.Name, ""}] = true
					for _, a := range ng.Accels {
						kind, model := deviceName(a.Device)
						devices[devKey{c.Name, "", kind, model}] = true
					}
				}
			}
		}
	}

	// The host keys: every pair and class, or with the account label the
	// keys jobs name plus an empty account for the pairs and classes no
	// job names (the exporter's closed set).
	pairList := sortedKeys(pairs, func(a, b [2]string) int { return cmpStrings(a[0], b[0], a[1], b[1]) })
	devList := sortedKeys(devices, func(a, b devKey) int {
		return cmpStrings(a.cluster, b.cluster, a.partition, b.partition, a.kind, b.kind, a.model, b.model)
	})
	namedPair := map[hostKey]bool{} // the named keys without their account
	for k := range named {
		k.account = ""
		namedPair[k] = true
	}
	var hosts []hostKey
	for _, p := range pairList {
		for _, c := range classify.Classes {
			k := hostKey{cluster: p[0], partition: p[1], class: c.String()}
			if !namedPair[k] {
				hosts = append(hosts, k)
			}
		}
	}
	for k := range named {
		hosts = append(hosts, k)
	}
	slices.SortFunc(hosts, func(a, b hostKey) int {
		return cmpStrings(a.cluster, b.cluster, a.partition, b.partition, a.account, b.account, a.class, b.class)
	})
	g.hosts = hosts
	hostIdx := make(map[hostKey]int32, len(hosts))
	for i, k := range hosts {
		hostIdx[k] = int32(i)
	}
	devsOf := map[[2]string][]devKey{}
	for _, d := range devList {
		p := [2]string{d.cluster, d.partition}
		devsOf[p] = append(devsOf[p], d)
	}

	// Series, family by family. Accelerator series of a host key follow
	// the devices of its partition.
	var accs []accKey
	for h, k := range hosts {
		for _, d := range devsOf[[2]string{k.cluster, k.partition}] {
			accs = append(accs, accKey{host: int32(h), kind: d.kind, model: d.model})
		}
	}
	slices.SortFunc(accs, func(a, b accKey) int {
		ha, hb := &hosts[a.host], &hosts[b.host]
		return cmpStrings(ha.cluster, hb.cluster, ha.partition, hb.partition, ha.account, hb.account,
			a.kind, b.kind, a.model, b.model, ha.class, hb.class)
	})
	accSeries := make(map[accKey]int32, len(accs))
	add := func(f int, values ...string) int32 {
		for i, v := range values {
			values[i] = validUTF8(v)
		}
		g.series = append(g.series, Series{Family: f, Values: values})
		return int32(len(g.series) - 1)
	}
	hostValues := func(k hostKey, extra ...string) []string {
		v := []string{k.cluster, k.partition}
		if opts.AccountLabel {
			v = append(v, k.account)
		}
		return append(append(v, extra...), k.class)
	}
	states := slices.Sorted(slices.Values(snapshot.States))
	for f := range numFamilies {
		g.famBase[f] = int32(len(g.series))
		switch f {
		case AllocatedAccelerator:
			for _, a := range accs {
				accSeries[a] = add(f, hostValues(hosts[a.host], a.kind, a.model, g.originOf(a.kind, a.model))...)
			}
		case AllocatedBilling, AllocatedCore, AllocatedNode:
			for _, k := range hosts {
				add(f, hostValues(k)...)
			}
		case CapacityAccelerator:
			for _, d := range devList {
				for _, st := range states {
					add(f, d.cluster, d.partition, d.kind, d.model, g.originOf(d.kind, d.model), st)
				}
			}
		case CapacityBilling, CapacityCore:
			for _, p := range pairList {
				for _, st := range states {
					add(f, p[0], p[1], st)
				}
			}
		}
	}
	g.famBase[numFamilies] = int32(len(g.series))

	// Pass 2: each allocation's host key, billing rates and accelerator
	// series.
	rateOf := map[[2]string]*rates{}
	g.hostRate = make([]*rates, len(hosts))
	for h, k := range hosts {
		p := [2]string{k.cluster, k.partition}
		r, ok := rateOf[p]
		if !ok {
			r = billingRates(opts.Inventory, k.cluster, k.partition, devs)
			rateOf[p] = r
		}
		g.hostRate[h] = r
	}
	for i := range refs {
		j := &jobs[refs[i].idx]
		h, ok := hostIdx[g.hostKeyOf(j)]
		if !ok {
			return nil, fmt.Errorf("internal error: no host series for allocation %d", refs[i].idx)
		}
		refs[i].host = h
		for _, dc := range store.JobDevices(int(refs[i].idx)) {
			key := [2]int32{h, int32(dc.Device)}
			if _, done := g.accIdx[key]; done {
				continue
			}
			s := int32(-1)
			if d := devs[dc.Device]; d.Known {
				kind, model := deviceName(d.Device)
				s = accSeries[accKey{host: h, kind: kind, model: model}]
			}
			g.accIdx[key] = s
		}
	}
	slices.SortFunc(refs, func(a, b jobRef) int { return cmp.Compare(jobs[a.idx].Start, jobs[b.idx].Start) })
	g.refs = refs
	for i := range refs {
		if e := jobs[refs[i].idx].End; e != openEnd && int64(e) <= last {
			g.byEnd = append(g.byEnd, int32(i))
		}
	}
	slices.SortFunc(g.byEnd, func(a, b int32) int {
		return cmp.Compare(jobs[refs[a].idx].End, jobs[refs[b].idx].End)
	})

	if err := g.buildPlans(hosts, accs, accSeries); err != nil {
		return nil, err
	}

	g.chunk = opts.ChunkSteps
	if g.chunk <= 0 {
		g.chunk = min(max(chunkBudget/max(len(g.series), 1), 16), 4096)
	}
	g.chunk = min(g.chunk, g.points)
	ns := len(g.series)
	g.level = make([]float64, ns)
	g.cum = make([]float64, ns)
	g.part = make([]float64, ns*g.chunk)
	g.delta = make([]float64, ns*(g.chunk+1))
	g.groupSec = make([]float64, len(g.groups)*g.chunk)
	return g, nil
}

// buildPlans prepares the capacity states: per cluster, each node group
// counts in the first partition that lists it (the daemon's rule), its
// cores and devices allocated as far as that partition's jobs held them.
func (g *Generator) buildPlans(hosts []hostKey, accs []accKey, accSeries map[accKey]int32) error {
	inv := g.opts.Inventory
	if inv == nil || len(g.refs) == 0 {
		return nil
	}
	index := map[string]int32{}
	for s := g.famBase[CapacityAccelerator]; s < g.famBase[numFamilies]; s++ {
		index[g.seriesKey(int(s))] = s
	}
	var missing error
	seriesOf := func(key string) int32 {
		s, ok := index[key]
		if !ok && missing == nil {
			missing = fmt.Errorf("internal error: no capacity series %q", key)
		}
		return s
	}
	coreSources := map[[2]string][]int32{}
	billingSources := map[[2]string][]int32{}
	for h, k := range hosts {
		p := [2]string{k.cluster, k.partition}
		coreSources[p] = append(coreSources[p], g.famBase[AllocatedCore]+int32(h))
		billingSources[p] = append(billingSources[p], g.famBase[AllocatedBilling]+int32(h))
	}
	accSources := map[devKey][]int32{}
	for _, a := range accs {
		k := hosts[a.host]
		d := devKey{k.cluster, k.partition, a.kind, a.model}
		accSources[d] = append(accSources[d], accSeries[a])
	}
	for _, c := range inv.Clusters {
		owner := map[*capacity.NodeGroup]string{}
		for _, p := range c.Partitions {
			for _, ng := range p.NodeGroups {
				if _, ok := owner[ng]; !ok {
					owner[ng] = p.Name
				}
			}
		}
		cores := map[string]*plan{}
		bills := map[string]*plan{}
		devPlans := map[devKey]*plan{}
		var order []*plan
		for _, ng := range c.NodeGroups {
			gi := len(g.groups)
			g.groups = append(g.groups, ng)
			part := owner[ng]
			cp := cores[part]
			if cp == nil {
				cp = &plan{sources: coreSources[[2]string{c.Name, part}],
					allocated: seriesOf(stateKey(CapacityCore, c.Name, part, "", "", snapshot.StateAllocated)),
					idl:       seriesOf(stateKey(CapacityCore, c.Name, part, "", "", snapshot.StateIdle))}
				cores[part] = cp
				order = append(order, cp)
			}
			cp.groups = append(cp.groups, gi)
			cp.mult = append(cp.mult, float64(ng.Cores))
			bp := bills[part]
			if bp == nil {
				bp = &plan{sources: billingSources[[2]string{c.Name, part}],
					allocated: seriesOf(stateKey(CapacityBilling, c.Name, part, "", "", snapshot.StateAllocated)),
					idl:       seriesOf(stateKey(CapacityBilling, c.Name, part, "", "", snapshot.StateIdle))}
				bills[part] = bp
				order = append(order, bp)
			}
			bp.groups = append(bp.groups, gi)
			bp.mult = append(bp.mult, c.WeightsFor(part).Billing(ng.Cores, 1, ng.Accels))
			for _, a := range ng.Accels {
				kind, model := deviceName(a.Device)
				d := devKey{c.Name, part, kind, model}
				dp := devPlans[d]
				if dp == nil {
					dp = &plan{sources: accSources[d],
						allocated: seriesOf(stateKey(CapacityAccelerator, c.Name, part, kind, model, snapshot.StateAllocated)),
						idl:       seriesOf(stateKey(CapacityAccelerator, c.Name, part, kind, model, snapshot.StateIdle))}
					devPlans[d] = dp
					order = append(order, dp)
				}
				if n := len(dp.groups); n > 0 && dp.groups[n-1] == gi {
					dp.mult[n-1] += float64(a.Count)
					continue
				}
				dp.groups = append(dp.groups, gi)
				dp.mult = append(dp.mult, float64(a.Count))
			}
		}
		for _, p := range order {
			g.plans = append(g.plans, *p)
		}
	}
	return missing
}

// seriesKey joins a capacity series' family and label values, to find it.
func (g *Generator) seriesKey(s int) string {
	v := g.series[s].Values
	if f := g.series[s].Family; f == CapacityCore || f == CapacityBilling {
		return stateKey(f, v[0], v[1], "", "", v[2])
	}
	return stateKey(CapacityAccelerator, v[0], v[1], v[2], v[3], v[5]) // v[4] is the origin
}

func stateKey(f int, cluster, partition, kind, model, state string) string {
	return fmt.Sprint(f, "\x00", validUTF8(cluster), "\x00", validUTF8(partition), "\x00", validUTF8(kind), "\x00", validUTF8(model), "\x00", state)
}

// hostKeyOf returns the host key of an allocation (the account empty
// unless the account label is on).
func (g *Generator) hostKeyOf(j *usage.Job) hostKey {
	cls := j.Class
	if int(cls) >= len(classify.Classes) {
		cls = classify.Unknown
	}
	k := hostKey{cluster: g.store.Label(uint32(j.Cluster)), partition: g.store.Label(uint32(j.Partition)), class: cls.String()}
	if g.opts.AccountLabel {
		k.account = g.store.Label(j.Account)
	}
	return k
}

// billingRates returns the billing weights of a (cluster, partition) as
// usage.Compute takes them: zero when the inventory does not list the
// cluster; accelerator weights only for devices the table knows.
func billingRates(inv *capacity.Inventory, cluster, partition string, devs []usage.Device) *rates {
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

// deviceOrigins maps each accelerator (kind, model) of the inventory and
// the store to its origin, the first device of a (kind, model) deciding.
func deviceOrigins(opts Options, devs []usage.Device) map[[2]string]string {
	origin := opts.DeviceOrigin
	if origin == nil {
		origin = func(d accel.Device) string { return accel.VendorOrigin(d.Vendor) }
	}
	m := map[[2]string]string{}
	add := func(d accel.Device) {
		kind, model := deviceName(d)
		if _, ok := m[[2]string{kind, model}]; !ok {
			m[[2]string{kind, model}] = origin(d)
		}
	}
	if opts.Inventory != nil {
		for _, c := range opts.Inventory.Clusters {
			for _, ng := range c.NodeGroups {
				for _, a := range ng.Accels {
					add(a.Device)
				}
			}
		}
	}
	for _, d := range devs {
		if d.Known {
			add(d.Device)
		}
	}
	return m
}

// originOf returns the origin label of a (kind, model): unknown for a
// device neither the inventory nor the store names.
func (g *Generator) originOf(kind, model string) string {
	if o, ok := g.origins[[2]string{kind, model}]; ok && o != "" {
		return validUTF8(o)
	}
	return accel.OriginUnknown
}

// deviceName returns the kind and model labels of a device, as the daemon
// names them ("<kind> (unspecified)" for a device without a model).
func deviceName(d accel.Device) (kind, model string) {
	kind, model = d.Kind, d.Model
	if model == "" {
		model = kind + " (unspecified)"
	}
	return kind, model
}

// sortedKeys returns the keys of a set in the given order.
func sortedKeys[K comparable](m map[K]bool, order func(a, b K) int) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, order)
	return out
}

// cmpStrings compares pairs of strings in turn: a0 with b0, then a1 with
// b1, and so on.
func cmpStrings(ab ...string) int {
	for i := 0; i < len(ab); i += 2 {
		if c := cmp.Compare(ab[i], ab[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// Families returns the six counter families; Series.Family indexes it.
func (g *Generator) Families() []Family { return g.fams[:] }

// Series returns every output series, in output order: by family (in the
// order of Families), then by label values. The caller must not modify it.
func (g *Generator) Series() []Series { return g.series }

// Labels returns the extra labels added to every series.
func (g *Generator) Labels() []Label { return g.opts.Labels }

// Points returns the number of samples of each series.
func (g *Generator) Points() int { return g.points }

// Samples returns the number of samples of the whole run.
func (g *Generator) Samples() int64 { return int64(g.points) * int64(len(g.series)) }

// Start returns the time of the first sample.
func (g *Generator) Start() time.Time { return time.Unix(g.from, 0).UTC() }

// Step returns the spacing of the samples.
func (g *Generator) Step() time.Duration { return time.Duration(g.step) * time.Second }

// Origin returns the start of the history: the first start of an
// allocation, from which the capacity counters count (zero time when no
// allocation ran before the last sample).
func (g *Generator) Origin() time.Time {
	if g.origin == 0 {
		return time.Time{}
	}
	return time.Unix(g.origin, 0).UTC()
}

// Reset rewinds the Generator to the first sample.
func (g *Generator) Reset() {
	g.next, g.si, g.ei = 0, 0, 0
	clear(g.level)
	clear(g.cum)
}

// Next computes the next chunk of samples. It returns io.EOF after the
// last one. The chunk and its Values are reused by the following call:
// copy what must outlive it.
//
// The value of a series at grid time t is the sum of its increments over
// the buckets before t: bucket 0 is everything before the first sample,
// bucket k the step [t(k-1), t(k)). An allocation holding r units from a
// to b adds r*(end of a's bucket - a) to a's bucket and r*step to every
// later bucket, and takes the same back from b on: each start and end is
// touched once, and each bucket of each series once.
func (g *Generator) Next() (*Chunk, error) {
	if g.next >= g.points {
		return nil, io.EOF
	}
	k0 := g.next
	n := min(g.chunk, g.points-k0)
	ns := len(g.series)
	part := g.part[:ns*n]
	delta := g.delta[:ns*(n+1)]
	clear(part)
	clear(delta)

	// Starts and ends in the buckets k0 .. k0+n-1, i.e. before the
	// chunk's last sample.
	limit := g.from + int64(k0+n-1)*g.step
	jobs := g.store.Jobs()
	for ; g.si < len(g.refs); g.si++ {
		r := g.refs[g.si]
		x := int64(jobs[r.idx].Start)
		if x >= limit {
			break
		}
		g.apply(r, x, 1, k0, n)
	}
	for ; g.ei < len(g.byEnd); g.ei++ {
		r := g.refs[g.byEnd[g.ei]]
		x := int64(jobs[r.idx].End)
		if x >= limit {
			break
		}
		g.apply(r, x, -1, k0, n)
	}

	// Increments of the allocated series: the partial buckets plus a full
	// step at the rate held since the bucket's start.
	step := float64(g.step)
	for s := range int(g.famBase[CapacityAccelerator]) {
		p := part[s*n : (s+1)*n]
		d := delta[s*(n+1) : (s+1)*(n+1)]
		rate := g.level[s]
		for l := range p {
			rate += d[l]
			p[l] += step * rate
		}
		g.level[s] = rate + d[n]
	}
	g.capacity(part, k0, n)

	// Values: running sums of the increments.
	for s := range ns {
		p := part[s*n : (s+1)*n]
		c := g.cum[s]
		for l := range p {
			c += p[l]
			p[l] = c
		}
		g.cum[s] = c
	}
	g.next += n
	g.out = Chunk{First: k0, Len: n, Start: g.from + int64(k0)*g.step, Step: g.step, Values: part}
	return &g.out, nil
}

// apply adds (sign 1) or takes back (sign -1) an allocation's resources at
// time x, which falls in bucket k0+l of the chunk.
func (g *Generator) apply(r jobRef, x int64, sign float64, k0, n int) {
	b := int64(0)
	if x >= g.from {
		b = (x-g.from)/g.step + 1
	}
	l := int(b) - k0
	dt := float64(g.from + b*g.step - x) // to the end of x's bucket
	j := &g.store.Jobs()[r.idx]
	at := func(s int32, units float64) {
		g.part[int(s)*n+l] += sign * units * dt
		g.delta[int(s)*(n+1)+l+1] += sign * units
	}
	rt := g.hostRate[r.host]
	cores, nodes := float64(j.Cores), float64(j.Nodes)
	billing := rt.cpu*cores + rt.node*nodes
	for _, dc := range g.store.JobDevices(int(r.idx)) {
		count := float64(dc.Count)
		if s := g.accIdx[[2]int32{r.host, int32(dc.Device)}]; s >= 0 {
			at(s, count)
		}
		billing += rt.dev[dc.Device] * count
	}
	h := r.host
	at(g.famBase[AllocatedCore]+h, cores)
	at(g.famBase[AllocatedNode]+h, nodes)
	at(g.famBase[AllocatedBilling]+h, billing)
}

// capacity fills the increments of the allocated and idle capacity series
// from the node groups and the allocated series' increments, bucket by
// bucket: allocated is what the partition's jobs held, at most the
// capacity (a site that oversubscribes is clamped, as sreport does), idle
// the rest, so the states always sum to the capacity.
func (g *Generator) capacity(part []float64, k0, n int) {
	if len(g.plans) == 0 {
		return
	}
	for gi, ng := range g.groups {
		sec := g.groupSec[gi*n : (gi+1)*n]
		for l := range sec {
			k := int64(k0 + l)
			hi := g.from + k*g.step
			lo := max(hi-g.step, g.origin)
			if k == 0 {
				lo = g.origin
			}
			sec[l] = 0
			if hi > lo {
				sec[l] = float64(ng.NodeSeconds(time.Unix(lo, 0), time.Unix(hi, 0)))
			}
		}
	}
	for i := range g.plans {
		p := &g.plans[i]
		for l := range n {
			var total, held float64
			for k, gi := range p.groups {
				total += g.groupSec[gi*n+l] * p.mult[k]
			}
			for _, s := range p.sources {
				held += part[int(s)*n+l]
			}
			a := min(held, total)
			part[int(p.allocated)*n+l] = a
			part[int(p.idl)*n+l] = total - a
		}
	}
}
