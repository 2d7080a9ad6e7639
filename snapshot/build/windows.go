package build

import (
	"errors"
	"math"
	"time"

	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/usage"
)

// figures are a cluster's allocated amounts in a window: total, AI and
// unknown, per resource.
type figures struct {
	core, accel, billing [3]float64 // total, ai, unknown
	any                  bool
}

const (
	fTotal = iota
	fAI
	fUnknown
)

// stageWindows publishes utilization and AI share over the trailing
// windows, from the engine's per-hour prefix sums: the cost grows with the
// hours of a window, not with the allocations in it.
func stageWindows(b *Builder, in *Inputs, s *snapshot.Snapshot) error {
	inv := in.Inventory
	if in.Complete.IsZero() || inv == nil || b.c == nil {
		return nil
	}
	c := b.c
	eng := c.eng
	to := in.Complete.Unix()
	var longest int64
	for _, w := range in.Windows {
		longest = max(longest, int64(w.Length/time.Second))
	}
	devs := eng.Devices()
	jobs := eng.Jobs()
	weights := func(id uint32, buf []usage.Weight) []usage.Weight {
		return c.weights(&jobs[id], eng.JobDevices(int(id)), buf)
	}
	for _, w := range in.Windows {
		from := to - int64(w.Length/time.Second)
		out := make([]int64, len(c.slotOf))
		err := c.ledger.Amount(from, to, weights, out)
		if errors.Is(err, usage.ErrPruned) {
			// A window longer than the events kept (a reload lengthened
			// it): the ledger is made again from the allocations, once.
			c.rebuildLedger()
			out = make([]int64, len(c.slotOf))
			err = c.ledger.Amount(from, to, weights, out)
		}
		if err != nil {
			return err
		}
		// Weights were numbered while reading the events: widen.
		for len(out) < len(c.slotOf) {
			out = append(out, 0)
		}
		figs := map[string]*figures{}
		var order []string
		for slot, v := range out {
			if v == 0 {
				continue
			}
			k := c.slotOf[slot]
			cl, part := eng.Label(uint32(k.cl)), eng.Label(uint32(k.part))
			f := figs[cl]
			if f == nil {
				f = &figures{}
				figs[cl] = f
				order = append(order, cl)
			}
			f.any = true
			var wc *capacity.Cluster
			if inv != nil {
				wc = inv.Cluster(cl)
			}
			var wt capacity.Weights
			if wc != nil {
				wt = wc.WeightsFor(part)
			}
			add := func(x *[3]float64, v float64) {
				x[fTotal] += v
				switch k.class {
				case classify.AITraining, classify.AIInference:
					x[fAI] += v
				case classify.Unknown:
					x[fUnknown] += v
				}
			}
			switch k.metric {
			case metricCores:
				add(&f.core, float64(v))
				add(&f.billing, wt["cpu"]*float64(v))
			case metricNodes:
				add(&f.billing, wt["node"]*float64(v))
			default:
				d := devs[k.metric]
				if d.Known {
					add(&f.accel, float64(v))
					add(&f.billing, wt.Accel(d.GRESName, d.GRESType)*float64(v))
				}
			}
		}
		sortStrings(order)
		fromT, toT := time.Unix(from, 0), in.Complete
		occ := eng.Occupied(fromT, toT)
		for _, cl := range order {
			var tot capacity.Totals
			ic := inv.Cluster(cl)
			if ic != nil {
				tot = ic.Total(fromT, toT)
			}
			f := figs[cl]
			s.Windows = append(s.Windows, windowFigures(cl, w.Label, f, &tot, float64(occ[cl]))...)
			if ic != nil {
				u, ai := headline(ic.Primary, f, &tot, float64(occ[cl]))
				s.Headline = append(s.Headline, snapshot.Headline{Cluster: cl, Window: w.Label, Basis: string(basisOf(ic.Primary)), Utilization: u, AIShare: ai})
			}
		}
		for _, ic := range inv.Clusters {
			if figs[ic.Name] == nil {
				s.Windows = append(s.Windows, windowFigures(ic.Name, w.Label, &figures{}, &capacity.Totals{}, 0)...)
				s.Headline = append(s.Headline, snapshot.Headline{Cluster: ic.Name, Window: w.Label, Basis: string(ic.Primary)})
			}
		}
	}
	if longest > 0 {
		// Keep the events of the longest window and an hour to spare.
		c.ledger.Prune(to - longest - 3600)
	}
	return nil
}

func basisOf(b capacity.Basis) capacity.Basis {
	if b == "" {
		return capacity.BasisCores
	}
	return b
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// utilization is allocated over capacity, at most 1 (records that hold
// more than the inventory has), 0 without capacity.
func utilization(alloc, capSec float64) float64 {
	return min(ratio(alloc, capSec), 1)
}

// headline is the pair of figures a cluster's basis shows: the nodes basis
// shows node occupancy with the AI share of cores, since node-hours are
// not split by class.
func headline(basis capacity.Basis, f *figures, tot *capacity.Totals, occupied float64) (util, ai float64) {
	switch basisOf(basis) {
	case capacity.BasisBilling:
		if tot.BillingSeconds > 0 {
			util = utilization(f.billing[fTotal], tot.BillingSeconds)
		}
		return util, ratio(f.billing[fAI], f.billing[fTotal])
	case capacity.BasisAccelerator:
		return utilization(f.accel[fTotal], float64(tot.AccelSeconds)), ratio(f.accel[fAI], f.accel[fTotal])
	case capacity.BasisNodes:
		return utilization(occupied, float64(tot.NodeSeconds)), ratio(f.core[fAI], f.core[fTotal])
	}
	return utilization(f.core[fTotal], float64(tot.CoreSeconds)), ratio(f.core[fAI], f.core[fTotal])
}

// windowFigures turns a window's figures into gauges. A ratio without a
// denominator (no accelerators in a CPU-only cluster, nothing allocated)
// is NaN, not 0: 0 would read as "idle" and trip utilization alerts.
func windowFigures(cluster, window string, f *figures, tot *capacity.Totals, occupied float64) []snapshot.Window {
	w := func(resource string, x *[3]float64, capSec float64, alloc float64, share bool) snapshot.Window {
		out := snapshot.Window{Cluster: cluster, Resource: resource, Window: window, Utilization: utilization(alloc, capSec),
			AIShare: math.NaN(), AIShareUpper: math.NaN()}
		if capSec <= 0 {
			out.Utilization = math.NaN()
		}
		if share && x[fTotal] > 0 {
			out.AIShare = x[fAI] / x[fTotal]
			out.AIShareUpper = (x[fAI] + x[fUnknown]) / x[fTotal]
		}
		return out
	}
	return []snapshot.Window{
		w(snapshot.ResourceCPU, &f.core, float64(tot.CoreSeconds), f.core[fTotal], true),
		w(snapshot.ResourceAccelerator, &f.accel, float64(tot.AccelSeconds), f.accel[fTotal], true),
		w(snapshot.ResourceBilling, &f.billing, tot.BillingSeconds, f.billing[fTotal], true),
		// Node occupancy over node capacity; no AI share on nodes.
		w(snapshot.ResourceNodes, nil, float64(tot.NodeSeconds), occupied, false),
	}
}
