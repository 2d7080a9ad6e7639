package backfill

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
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

// slot says where one value of the counters' rows goes: the series, or -1
// for a value no series carries.
type slot = int32

// Generator writes the counters' values at every grid point, chunk after
// chunk in time order. The values themselves come from build.Replay, the
// daemon's own counters replayed over the history: the Generator only
// names the series (the exporter's closed label sets) and lays the values
// out. It reads the store and inventory it was made with and must be used
// by one goroutine; the store must not change while it runs.
type Generator struct {
	store *usage.Store
	opts  Options
	fams  [numFamilies]Family
	// series in output order: by family, then by label values.
	series  []Series
	famBase [numFamilies + 1]int32

	from, step    int64
	points, chunk int

	replay  *build.Replay
	origins map[[2]string]string // (kind, model) -> origin label
	// allocSlots gives, per row of replay.Allocated, the series of its
	// core, node and billing values and then of each Accel entry.
	allocSlots [][]slot
	// capSlots gives, per row of replay.Capacity, the series of its core
	// and billing values and then of each Accel entry.
	capSlots [][]slot

	next int
	part []float64
	out  Chunk
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
	g := &Generator{store: store, opts: opts, fams: fams, from: from, step: step, points: int(points),
		replay: build.NewReplay(store, opts.Inventory, opts.AccountLabel, to)}
	g.origins = deviceOrigins(opts, store.Devices())

	// The label sets: those the counters' rows name, those of the jobs
	// waiting at the end, and the inventory's.
	rows := g.replay.Allocated()
	pairs := map[[2]string]bool{}
	devices := map[devKey]bool{}
	named := map[hostKey]bool{} // account mode: the account keys jobs name
	for _, a := range rows {
		pairs[[2]string{a.Cluster, a.Partition}] = true
		if opts.AccountLabel {
			named[hostKey{a.Cluster, a.Partition, a.Account, a.Class}] = true
		}
		for _, x := range a.Accel {
			devices[devKey{a.Cluster, a.Partition, x.Kind, x.Model}] = true
		}
	}
	for _, w := range g.replay.Waiting() {
		pairs[[2]string{w.Cluster, w.Partition}] = true
		if w.Kind != "" {
			devices[devKey{w.Cluster, w.Partition, w.Kind, w.Model}] = true
		}
	}
	if opts.Inventory != nil {
		for _, c := range opts.Inventory.Clusters {
			owned := map[*capacity.NodeGroup]bool{}
			for _, p := range c.Partitions {
				pairs[[2]string{c.Name, p.Name}] = true
				for _, ng := range p.NodeGroups {
					owned[ng] = true
					for _, a := range ng.Accels {
						kind, model := build.DevName(a.Device)
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
						kind, model := build.DevName(a.Device)
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
	capSeries := map[string]int32{}
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
					capSeries[stateKey(f, d.cluster, d.partition, d.kind, d.model, st)] = add(f, d.cluster, d.partition, d.kind, d.model, g.originOf(d.kind, d.model), st)
				}
			}
		case CapacityBilling, CapacityCore:
			for _, p := range pairList {
				for _, st := range states {
					capSeries[stateKey(f, p[0], p[1], "", "", st)] = add(f, p[0], p[1], st)
				}
			}
		}
	}
	g.famBase[numFamilies] = int32(len(g.series))

	// Where each value of the counters' rows goes.
	for _, a := range rows {
		h, ok := hostIdx[hostKey{a.Cluster, a.Partition, a.Account, a.Class}]
		if !ok {
			return nil, fmt.Errorf("internal error: no series for the allocations of %s/%s/%s/%s", a.Cluster, a.Partition, a.Account, a.Class)
		}
		sl := []slot{g.famBase[AllocatedCore] + h, g.famBase[AllocatedNode] + h, g.famBase[AllocatedBilling] + h}
		for _, x := range a.Accel {
			s, ok := accSeries[accKey{host: h, kind: x.Kind, model: x.Model}]
			if !ok {
				return nil, fmt.Errorf("internal error: no series for %s %s on %s/%s", x.Kind, x.Model, a.Cluster, a.Partition)
			}
			sl = append(sl, s)
		}
		g.allocSlots = append(g.allocSlots, sl)
	}
	for _, c := range g.replay.Capacity() {
		find := func(f int, kind, model string) (slot, error) {
			s, ok := capSeries[stateKey(f, c.Cluster, c.Partition, kind, model, c.State)]
			if !ok {
				return 0, fmt.Errorf("internal error: no capacity series %s %s/%s %s %s", g.fams[f].Name, c.Cluster, c.Partition, kind, c.State)
			}
			return s, nil
		}
		core, err := find(CapacityCore, "", "")
		if err != nil {
			return nil, err
		}
		bill, err := find(CapacityBilling, "", "")
		if err != nil {
			return nil, err
		}
		sl := []slot{core, bill}
		for _, x := range c.Accel {
			s, err := find(CapacityAccelerator, x.Kind, x.Model)
			if err != nil {
				return nil, err
			}
			sl = append(sl, s)
		}
		g.capSlots = append(g.capSlots, sl)
	}

	g.chunk = opts.ChunkSteps
	if g.chunk <= 0 {
		g.chunk = min(max(chunkBudget/max(len(g.series), 1), 16), 4096)
	}
	g.chunk = min(g.chunk, g.points)
	g.part = make([]float64, len(g.series)*g.chunk)
	return g, nil
}

// stateKey joins a capacity series' family and label values, to find it.
func stateKey(f int, cluster, partition, kind, model, state string) string {
	return fmt.Sprint(f, "\x00", validUTF8(cluster), "\x00", validUTF8(partition), "\x00", validUTF8(kind), "\x00", validUTF8(model), "\x00", state)
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
		kind, model := build.DevName(d)
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
	o := g.replay.Origin()
	if o == 0 {
		return time.Time{}
	}
	return time.Unix(o, 0).UTC()
}

// Reset rewinds the Generator to the first sample.
func (g *Generator) Reset() {
	g.next = 0
	g.replay.Reset()
}

// Next computes the next chunk of samples. It returns io.EOF after the
// last one. The chunk and its Values are reused by the following call:
// copy what must outlive it.
//
// Each sample is the daemon's counters (build.Replay) brought to the
// sample's time: the value of a series at t is what a daemon whose
// sources were complete up to t would have published.
func (g *Generator) Next() (*Chunk, error) {
	if g.next >= g.points {
		return nil, io.EOF
	}
	k0 := g.next
	n := min(g.chunk, g.points-k0)
	part := g.part[:len(g.series)*n]
	clear(part)
	for l := range n {
		if err := g.replay.Advance(g.from + int64(k0+l)*g.step); err != nil {
			return nil, err
		}
		for i, a := range g.replay.Allocated() {
			sl := g.allocSlots[i]
			part[int(sl[0])*n+l] = a.CoreSeconds
			part[int(sl[1])*n+l] = a.NodeSeconds
			part[int(sl[2])*n+l] = a.BillingSeconds
			for d, x := range a.Accel {
				part[int(sl[3+d])*n+l] = x.Seconds
			}
		}
		for i, c := range g.replay.Capacity() {
			sl := g.capSlots[i]
			part[int(sl[0])*n+l] = c.CoreSeconds
			part[int(sl[1])*n+l] = c.BillingSeconds
			for d, x := range c.Accel {
				part[int(sl[2+d])*n+l] = x.Seconds
			}
		}
	}
	g.next += n
	g.out = Chunk{First: k0, Len: n, Start: g.from + int64(k0)*g.step, Step: g.step, Values: part}
	return &g.out, nil
}
