package web

import (
	"sort"
	"strconv"
	"time"

	"github.com/scmon/scmon/snapshot"
)

// accelRow is one accelerator kind or model of one cluster since the first
// allocation: utilization (allocated over capacity) and the AI share
// (training and inference over allocated), from the same counters
// /metrics exports.
type accelRow struct {
	Cluster, Kind, Model, Origin string
	// Model is empty on a kind's row, which sums its models.
	CapacityHours, AllocatedHours string
	Utilization, AIShare          string
	Training, Inference           string
	UtilBar                       float64
}

// accelRows builds the accelerator table: per cluster, each kind then its
// models, in name order. A figure without a denominator is "–".
func accelRows(s *snapshot.Snapshot) []accelRow {
	type key struct{ cluster, kind, model string }
	type sums struct{ capacity, alloc, training, inference float64 }
	m := map[key]*sums{}
	get := func(k key) *sums {
		if m[k] == nil {
			m[k] = &sums{}
		}
		return m[k]
	}
	for _, a := range s.Allocated {
		for _, x := range a.Accel {
			for _, k := range []key{{a.Cluster, x.Kind, ""}, {a.Cluster, x.Kind, x.Model}} {
				v := get(k)
				v.alloc += x.Seconds
				switch a.Class {
				case "ai_training":
					v.training += x.Seconds
				case "ai_inference":
					v.inference += x.Seconds
				}
			}
		}
	}
	for _, c := range s.Capacity {
		for _, x := range c.Accel {
			for _, k := range []key{{c.Cluster, x.Kind, ""}, {c.Cluster, x.Kind, x.Model}} {
				get(k).capacity += x.Seconds
			}
		}
	}
	origins := map[[2]string]string{}
	for _, o := range s.Origins {
		if _, ok := origins[[2]string{o.Kind, o.Model}]; !ok {
			origins[[2]string{o.Kind, o.Model}] = o.Origin
		}
	}
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.cluster+"\x00"+a.kind+"\x00"+a.model < b.cluster+"\x00"+b.kind+"\x00"+b.model
	})
	out := make([]accelRow, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		r := accelRow{Cluster: k.cluster, Kind: k.kind, Model: k.model, Origin: origins[[2]string{k.kind, k.model}],
			CapacityHours: count(v.capacity / 3600), AllocatedHours: count(v.alloc / 3600),
			Utilization: "–", AIShare: "–", Training: "–", Inference: "–"}
		if k.model != "" && r.Origin == "" {
			r.Origin = "unknown"
		}
		if v.capacity > 0 {
			r.Utilization = pct(v.alloc / v.capacity)
			r.UtilBar = clamp01(v.alloc/v.capacity) * 100
		}
		if v.alloc > 0 {
			r.AIShare = pct((v.training + v.inference) / v.alloc)
			r.Training = pct(v.training / v.alloc)
			r.Inference = pct(v.inference / v.alloc)
		}
		out = append(out, r)
	}
	return out
}

// nowRow is one resource of one partition at the snapshot: its capacity
// by node state and the requests of the jobs waiting for it there.
type nowRow struct {
	Cluster, Partition, Resource string
	Capacity, Allocated, Idle    string
	Unavailable                  string // down, drained and planned
	Waiting                      string // requested by pending jobs of the partition
	// IdleWhileWaiting marks a resource idle while jobs of the same
	// partition wait for it: a scheduling question (fragmentation,
	// limits, reservations), highlighted on the page.
	IdleWhileWaiting bool
}

// nowRows builds the "now" table from the node states and the pending
// demand of the snapshot: cores and each accelerator model per partition.
func nowRows(s *snapshot.Snapshot) []nowRow {
	type key struct{ cluster, partition, kind, model string }
	type sums struct{ capacity, alloc, idle, unavail, waiting float64 }
	m := map[key]*sums{}
	get := func(k key) *sums {
		if m[k] == nil {
			m[k] = &sums{}
		}
		return m[k]
	}
	put := func(v *sums, state string, x float64) {
		v.capacity += x
		switch state {
		case snapshot.StateAllocated:
			v.alloc += x
		case snapshot.StateIdle:
			v.idle += x
		default:
			v.unavail += x
		}
	}
	for _, n := range s.Nodes {
		put(get(key{n.Cluster, n.Partition, "", ""}), n.State, n.Cores)
		for _, a := range n.Accel {
			put(get(key{n.Cluster, n.Partition, a.Kind, a.Model}), n.State, a.Seconds)
		}
	}
	for _, p := range s.Pending {
		get(key{p.Cluster, p.Partition, "", ""}).waiting += p.Cores
		for _, a := range p.Accel {
			get(key{p.Cluster, p.Partition, a.Kind, a.Model}).waiting += a.Seconds
		}
	}
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.cluster+"\x00"+a.partition+"\x00"+a.kind+"\x00"+a.model < b.cluster+"\x00"+b.partition+"\x00"+b.kind+"\x00"+b.model
	})
	out := make([]nowRow, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		r := nowRow{Cluster: k.cluster, Partition: k.partition, Resource: "cores",
			Capacity: count(v.capacity), Allocated: count(v.alloc), Idle: count(v.idle), Unavailable: count(v.unavail),
			Waiting: count(v.waiting), IdleWhileWaiting: v.idle > 0 && v.waiting > 0}
		if k.kind != "" {
			r.Resource = k.kind + " " + k.model
		}
		out = append(out, r)
	}
	return out
}

// offsetLayout is how the page writes an instant: with its offset from
// UTC, never a zone abbreviation (CST is China's, Cuba's and the US
// central time).
const offsetLayout = "2006-01-02 15:04:05 -07:00"

// zoneLabel names a location with its current UTC offset, e.g.
// "Asia/Shanghai, UTC+08:00".
func zoneLabel(loc *time.Location, at time.Time) string {
	_, off := at.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, mi := off/3600, off%3600/60
	return loc.String() + ", UTC" + sign + pad2(h) + ":" + pad2(mi)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
