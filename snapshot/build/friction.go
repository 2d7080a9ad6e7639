package build

import (
	"cmp"
	"slices"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// fricKey is one label set of the friction counters in engine terms: the
// cluster and partition (which resolve a device without a model), the
// class, the outcome and the job's known devices (engine indices, sorted,
// two bytes each). The published labels (kind, model, origin) are derived
// from it when published, with the inventory and table of then.
type fricKey struct {
	cl, part uint16
	class    classify.Class
	outcome  string
	devs     string
}

// fricAmount is how many jobs of a label set ended and the seconds they
// ran.
type fricAmount struct {
	jobs, run int64
}

// fric adds sign x j (holding devs) to the friction counters if j, an AI
// job on a known accelerator, had ended by t (Unix seconds).
func (c *counters) fric(j *usage.Job, devs []usage.DeviceCount, t int64, sign int64) {
	if !j.Class.IsAI() || j.Start == 0 || j.End == 0 || j.End == usage.OpenEnd || int64(j.End) > t || len(devs) == 0 {
		return
	}
	how, ok := planning.EndOutcome(j.State, time.Unix(int64(j.Start), 0), time.Unix(int64(j.End), 0))
	if !ok {
		return
	}
	if len(devs) > 1 {
		devs = slices.Clone(devs)
		slices.SortFunc(devs, func(a, b usage.DeviceCount) int { return cmp.Compare(a.Device, b.Device) })
	}
	var buf [16]byte
	key := buf[:0]
	for _, dc := range devs {
		if dc.Device == 0 || !c.eng.Device(dc.Device).Known {
			continue
		}
		if n := len(key); n >= 2 && uint16(key[n-2])|uint16(key[n-1])<<8 == dc.Device {
			continue
		}
		key = append(key, byte(dc.Device), byte(dc.Device>>8))
	}
	if len(key) == 0 {
		return
	}
	k := fricKey{cl: j.Cluster, part: j.Partition, class: j.Class, outcome: how, devs: string(key)}
	a := c.friction[k]
	if a == nil {
		a = &fricAmount{}
		c.friction[k] = a
	}
	a.jobs += sign
	a.run += sign * (int64(j.End) - int64(j.Start))
}

// publishFriction publishes the friction counters: a job holding two
// models counts under each, once per label set, as planning.EndedOutcomes
// counts it.
func publishFriction(b *Builder, in *Inputs, s *snapshot.Snapshot) {
	c := b.c
	eng := c.eng
	origin := in.DeviceOrigin
	if origin == nil {
		origin = func(d accel.Device) string { return accel.VendorOrigin(d.Vendor) }
	}
	type labels struct{ cluster, kind, model, origin, class, outcome string }
	sums := map[labels]*fricAmount{}
	seen := make([]labels, 0, 4)
	for k, a := range c.friction {
		if a.jobs == 0 && a.run == 0 {
			continue
		}
		cl, part := eng.Label(uint32(k.cl)), eng.Label(uint32(k.part))
		seen = seen[:0]
		for i := 0; i+1 < len(k.devs); i += 2 {
			d := in.Inventory.ResolveDevice(cl, part, eng.Device(uint16(k.devs[i])|uint16(k.devs[i+1])<<8).Device)
			l := labels{cl, d.Kind, planning.ModelName(d), origin(d), k.class.String(), k.outcome}
			if slices.Contains(seen, l) {
				continue
			}
			seen = append(seen, l)
			sum := sums[l]
			if sum == nil {
				sum = &fricAmount{}
				sums[l] = sum
			}
			sum.jobs += a.jobs
			sum.run += a.run
		}
	}
	start := len(s.Friction)
	for l, a := range sums {
		s.Friction = append(s.Friction, snapshot.Friction{Cluster: l.cluster, Kind: l.kind, Model: l.model, Origin: l.origin,
			Class: l.class, Outcome: l.outcome, Jobs: float64(a.jobs), RunSeconds: float64(a.run)})
	}
	out := s.Friction[start:]
	slices.SortFunc(out, func(x, y snapshot.Friction) int {
		return cmp.Or(cmp.Compare(x.Cluster, y.Cluster), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Model, y.Model),
			cmp.Compare(x.Origin, y.Origin), cmp.Compare(x.Class, y.Class), cmp.Compare(x.Outcome, y.Outcome))
	})
	for i := range out {
		f := &out[i]
		base := f.Cluster + "|" + f.Kind + "|" + f.Model + "|" + f.Origin + "|" + f.Class + "|" + f.Outcome
		f.Jobs = b.monotone("fj|"+base, f.Jobs)
		f.RunSeconds = b.monotone("fr|"+base, f.RunSeconds)
	}
}
