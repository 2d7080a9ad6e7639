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
type Collector struct {
	inv   *capacity.Inventory
	table *accel.Table
	jobs  []Job
}

// NewCollector returns a collector that maps GRES with table (nil: the
// defaults) and resolves untyped requests and billing with inv (may be nil).
func NewCollector(inv *capacity.Inventory, table *accel.Table) *Collector {
	if table == nil {
		table = accel.Default()
	}
	return &Collector{inv: inv, table: table}
}

// ObserveAt adds record r, with its class, as the job stored at index i of
// the usage store: i is the number of jobs observed for a new job, or an
// earlier one's index for a record that replaced it.
func (c *Collector) ObserveAt(i uint32, r *job.Record, d classify.Decision) {
	j := Job{Cluster: r.Cluster, Partition: r.Partition, Account: r.Account, User: r.User, Name: r.Name,
		Class: d.Class, State: r.State, Submit: r.Submit, Eligible: r.Eligible, Start: r.Start, End: r.End,
		Cores: r.Cores, Nodes: r.Nodes}
	if !j.Start.IsZero() && j.State == job.StatePending {
		j.State = job.StateRunning
	}
	if i := strings.IndexByte(j.Partition, ','); i >= 0 && j.Start.IsZero() {
		j.Partition = j.Partition[:i] // pending on several partitions: counted in the first
	}
	var accels []capacity.Accel
	for _, a := range r.Accels {
		dev, res := c.table.Lookup(a.Name, a.Type)
		if res != accel.Accelerator || a.Count <= 0 {
			continue
		}
		dev = c.inv.ResolveDevice(r.Cluster, r.Partition, dev)
		accels = append(accels, capacity.Accel{Device: dev, GRESName: a.Name, GRESType: a.Type, Count: a.Count})
		merged := false
		for i := range j.Devices {
			if j.Devices[i].Device == dev {
				j.Devices[i].Count += a.Count
				merged = true
			}
		}
		if !merged {
			j.Devices = append(j.Devices, DeviceCount{Device: dev, Count: a.Count})
		}
	}
	if c.inv != nil {
		if cl := c.inv.Cluster(r.Cluster); cl != nil {
			j.Billing = cl.WeightsFor(r.Partition).Billing(r.Cores, r.Nodes, accels)
		}
	}
	for len(c.jobs) <= int(i) {
		c.jobs = append(c.jobs, Job{})
	}
	c.jobs[i] = j
}

// Decide sets the class of job i, for records classified after they were
// stored (a whole input at once).
func (c *Collector) Decide(i uint32, d classify.Decision) { c.jobs[i].Class = d.Class }

// Jobs returns the jobs collected, in the order first read.
func (c *Collector) Jobs() []Job { return c.jobs }
