package daemon

import (
	"sort"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
)

// deviceOrigins gives the origin of every accelerator (kind, model) the
// inventory or the store knows, as the accelerator table decides it (an
// inventory's rule can override the vendor's origin): the origin label of
// the accelerator counters. A model named twice keeps its first origin.
func deviceOrigins(table *accel.Table, inv *capacity.Inventory, devices []accel.Device) []snapshot.DeviceOrigin {
	if table == nil {
		table = accel.Default()
	}
	seen := map[[2]string]bool{}
	var out []snapshot.DeviceOrigin
	add := func(d accel.Device) {
		kind, model := build.DevName(d)
		if seen[[2]string{kind, model}] {
			return
		}
		seen[[2]string{kind, model}] = true
		out = append(out, snapshot.DeviceOrigin{Kind: kind, Model: model, Origin: table.Origin(d)})
	}
	if inv != nil {
		for _, c := range inv.Clusters {
			for _, g := range c.NodeGroups {
				for _, a := range g.Accels {
					add(a.Device)
				}
			}
		}
	}
	for _, d := range devices {
		add(d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+"\x00"+out[i].Model < out[j].Kind+"\x00"+out[j].Model })
	return out
}

// frictionCounters counts the AI jobs on accelerators that ended up to
// complete by cluster, device, origin, class and outcome, with their run
// seconds (planning.EndedOutcomes), under the monotone guard. d.mu must be
// held.
func (d *Daemon) frictionCounters(rt *Runtime, inv *capacity.Inventory, complete time.Time) []snapshot.Friction {
	if complete.IsZero() || d.mem == nil || d.mem.Len() == 0 {
		return nil
	}
	jobs := planning.JobsFromStore(d.mem, inv, rt.Table, nil, rt.Config.Cluster)
	counts := planning.EndedOutcomes(jobs, complete, rt.Table.Origin)
	out := make([]snapshot.Friction, 0, len(counts))
	for _, c := range counts {
		key := strings.Join([]string{c.Cluster, c.Kind, c.Model, c.Origin, c.Class, c.Outcome}, "|")
		out = append(out, snapshot.Friction{Cluster: c.Cluster, Kind: c.Kind, Model: c.Model, Origin: c.Origin, Class: c.Class, Outcome: c.Outcome,
			Jobs:       d.pub.monotone(d, "fj|"+key, float64(c.Jobs)),
			RunSeconds: d.pub.monotone(d, "fr|"+key, float64(c.RunSeconds))})
	}
	return out
}

// storeDevices returns the accelerators of the store's device table.
func (d *Daemon) storeDevices() []accel.Device {
	if d.mem == nil {
		return nil
	}
	var out []accel.Device
	for _, dv := range d.mem.Devices() {
		if dv.Known {
			out = append(out, dv.Device)
		}
	}
	return out
}

// monotone keeps a friction counter from going down (a record replaced by
// a later one of the same run can change how a job ended): it returns the
// larger of v and the value last published for key.
func (p *publisher) monotone(d *Daemon, key string, v float64) float64 {
	if p.friction == nil {
		p.friction = map[string]float64{}
	}
	if prev, ok := p.friction[key]; ok && v < prev {
		if prev-v > 1 {
			d.log.Warn("counter would decrease; kept", "series", key, "was", prev, "now", v)
		}
		return prev
	}
	p.friction[key] = v
	return v
}
