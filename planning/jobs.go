// Package planning answers a planner's questions from the scheduler's own
// records: why capacity sits idle (the idle split), what AI runs on which
// hardware and of which origin, where porting to an accelerator hurts
// (adaptation friction), what each account used (statements), and pictures
// of all that.
//
// Every view is a pure function of the jobs, the inventory and a window:
// no clock, no I/O. The jobs are collected once, beside the usage store,
// because the views need what the store does not keep (when a job became
// eligible, what a waiting job asked for, its name).
package planning

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
)

// Job is one allocation as the views need it: requested resources for a
// job that has not started, held resources for one that has.
type Job struct {
	Cluster, Partition, Account, User, Name string

	Class classify.Class
	State job.State
	// Submit, Eligible, Start and End are as the record gives them; a zero
	// Start means the job never started, a zero End with a non-zero Start
	// that it is still running.
	Submit, Eligible, Start, End time.Time

	Cores, Nodes int64
	// Devices are the accelerators held or requested, resolved to a model
	// where the partition has one model of the kind.
	Devices []DeviceCount
	// Billing is the job's billing units per second under the inventory's
	// weights (zero without an inventory).
	Billing float64
}

// DeviceCount is a number of one accelerator device.
type DeviceCount struct {
	Device accel.Device
	Count  int64
}

// Waiting returns the interval over which the job waited for resources:
// from Eligible (Submit when Eligible is unknown) to Start, or to end while
// it is still pending. ok is false when the wait is unknown: a job that
// never started and is no longer pending (cancelled before it started;
// the records keep no end of its wait) or one without a submission time.
func (j *Job) Waiting(end time.Time) (from, to time.Time, ok bool) {
	from = j.Eligible
	if from.IsZero() {
		from = j.Submit
	}
	if from.IsZero() {
		return from, to, false
	}
	switch {
	case !j.Start.IsZero():
		to = j.Start
	case j.State == job.StatePending:
		to = end
	default:
		return from, to, false
	}
	return from, to, true
}

// Collector gathers jobs from records as they are stored (ingest's
// Observer), by their index in the usage store: a run read twice replaces
// its earlier reading where the store replaces it, so that both see the
// same allocations.
//
// It keeps each job as a fixed-size row without pointers (88 bytes:
// times, counts, interned labels, an index into the distinct device
// lists), so that a million jobs cost little memory and nothing to the
// garbage collector, and makes the views' Jobs when asked.
type Collector struct {
	inv   *capacity.Inventory
	table *accel.Table
	// rows in chunks of rowChunk: growing never copies them
	rows [][]row
	n    int

	labels  []string
	labelIx map[string]uint32
	// the last cluster name and its label, as names repeat from record
	// to record
	lastCl   string
	lastClIx uint32
	hasCl    bool

	devLists [][]DeviceCount
	devOne   map[DeviceCount]uint32
	devMany  map[string]uint32
	devBuf   []DeviceCount
	accelBuf []capacity.Accel
}

// row is a job in compact form. Times are Unix nanoseconds, noTime for
// the zero time.
type row struct {
	submit, eligible, start, end int64
	billing                      float64
	cores, nodes                 int64
	cluster, partition           uint32
	account, user, name          uint32
	devs                         uint32 // index into devLists; 0: none
	class                        classify.Class
	state                        job.State
}

const noTime = math.MinInt64

const rowChunk = 1 << 14

func (c *Collector) row(i uint32) *row { return &c.rows[i/rowChunk][i%rowChunk] }

// NewCollector returns a collector that maps GRES with table (nil: the
// defaults) and resolves untyped requests and billing with inv (may be nil).
func NewCollector(inv *capacity.Inventory, table *accel.Table) *Collector {
	if table == nil {
		table = accel.Default()
	}
	c := &Collector{inv: inv, table: table, labelIx: map[string]uint32{}, devOne: map[DeviceCount]uint32{}, devMany: map[string]uint32{}}
	c.label("")
	c.devLists = append(c.devLists, nil)
	return c
}

func (c *Collector) label(s string) uint32 {
	if i, ok := c.labelIx[s]; ok {
		return i
	}
	i := uint32(len(c.labels))
	s = strings.Clone(s) // not the reader's line buffer
	c.labels = append(c.labels, s)
	c.labelIx[s] = i
	return i
}

func (c *Collector) clusterLabel(s string) uint32 {
	if !c.hasCl || s != c.lastCl {
		c.lastClIx = c.label(s)
		c.lastCl, c.hasCl = c.labels[c.lastClIx], true
	}
	return c.lastClIx
}

// devList returns the index of a device list, adding it when new.
func (c *Collector) devList(d []DeviceCount) uint32 {
	switch len(d) {
	case 0:
		return 0
	case 1:
		if i, ok := c.devOne[d[0]]; ok {
			return i
		}
		i := uint32(len(c.devLists))
		c.devLists = append(c.devLists, slices.Clone(d))
		c.devOne[d[0]] = i
		return i
	}
	var b strings.Builder
	for _, x := range d {
		fmt.Fprintf(&b, "%q %q %q %d\n", x.Device.Kind, x.Device.Vendor, x.Device.Model, x.Count)
	}
	k := b.String()
	if i, ok := c.devMany[k]; ok {
		return i
	}
	i := uint32(len(c.devLists))
	c.devLists = append(c.devLists, slices.Clone(d))
	c.devMany[k] = i
	return i
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	// Outside 1678-2262 (which the store refuses for every time but
	// Eligible) the nanoseconds do not fit: kept at the bound.
	switch {
	case t.Before(minNanoTime):
		return minNanoTime.UnixNano()
	case t.After(maxNanoTime):
		return maxNanoTime.UnixNano()
	}
	return t.UnixNano()
}

var (
	minNanoTime = time.Unix(0, math.MinInt64+1)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

func fromNanos(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ObserveAt adds record r, with its class, as the job stored at index i of
// the usage store: i is the number of jobs observed for a new job, or an
// earlier one's index for a record that replaced it.
func (c *Collector) ObserveAt(i uint32, r *job.Record, d classify.Decision) {
	j := row{submit: nanos(r.Submit), eligible: nanos(r.Eligible), start: nanos(r.Start), end: nanos(r.End),
		cores: r.Cores, nodes: r.Nodes, class: d.Class, state: r.State}
	if !r.Start.IsZero() && j.state == job.StatePending {
		j.state = job.StateRunning
	}
	part := r.Partition
	if i := strings.IndexByte(part, ','); i >= 0 && r.Start.IsZero() {
		part = part[:i] // pending on several partitions: counted in the first
	}
	j.cluster, j.partition = c.clusterLabel(r.Cluster), c.label(part)
	j.account, j.user, j.name = c.label(r.Account), c.label(r.User), c.label(r.Name)
	accels, devs := c.accelBuf[:0], c.devBuf[:0]
	for _, a := range r.Accels {
		dev, res := c.table.Lookup(a.Name, a.Type)
		if res != accel.Accelerator || a.Count <= 0 {
			continue
		}
		dev = c.inv.ResolveDevice(r.Cluster, r.Partition, dev)
		accels = append(accels, capacity.Accel{Device: dev, GRESName: a.Name, GRESType: a.Type, Count: a.Count})
		merged := false
		for i := range devs {
			if devs[i].Device == dev {
				devs[i].Count += a.Count
				merged = true
			}
		}
		if !merged {
			devs = append(devs, DeviceCount{Device: dev, Count: a.Count})
		}
	}
	if c.inv != nil {
		if cl := c.inv.Cluster(r.Cluster); cl != nil {
			j.billing = cl.WeightsFor(r.Partition).Billing(r.Cores, r.Nodes, accels)
		}
	}
	j.devs = c.devList(devs)
	clear(accels)
	c.accelBuf, c.devBuf = accels[:0], devs[:0]
	for c.n <= int(i) {
		if c.n%rowChunk == 0 {
			c.rows = append(c.rows, make([]row, rowChunk))
		}
		c.n++
	}
	*c.row(i) = j
}

// Decide sets the class of job i, for records classified after they were
// stored (a whole input at once).
func (c *Collector) Decide(i uint32, d classify.Decision) { c.row(i).class = d.Class }

// Len returns the number of jobs collected.
func (c *Collector) Len() int { return c.n }

// Jobs returns the jobs collected, in the order first read. Each call
// makes them anew; jobs with the same devices share their Devices slice,
// which must not be modified.
func (c *Collector) Jobs() []Job {
	out := make([]Job, c.n)
	for i := range out {
		r := c.row(uint32(i))
		out[i] = Job{Cluster: c.labels[r.cluster], Partition: c.labels[r.partition], Account: c.labels[r.account],
			User: c.labels[r.user], Name: c.labels[r.name], Class: r.class, State: r.state,
			Submit: fromNanos(r.submit), Eligible: fromNanos(r.eligible), Start: fromNanos(r.start), End: fromNanos(r.end),
			Cores: r.cores, Nodes: r.nodes, Devices: c.devLists[r.devs], Billing: r.billing}
	}
	return out
}
