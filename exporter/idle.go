package exporter

import (
	"slices"
	"strings"

	"github.com/scmon/scmon/snapshot"
)

// idle emits the idle split and the pending demand: every cluster and
// every (cluster, kind, model) of the snapshot's devices, crossed with
// every reason, zeros included, extended by what the data names.
func (em emitter) idle(s *snapshot.Snapshot) {
	type dev struct{ cluster, kind, model string }
	idle := map[dev]map[string]float64{}
	demand := map[dev]float64{}
	var devs []dev
	seen := map[dev]bool{}
	note := func(d dev) {
		if !seen[d] {
			seen[d] = true
			devs = append(devs, d)
		}
	}
	for _, c := range s.Clusters {
		note(dev{cluster: c})
	}
	for _, d := range s.Devices {
		note(dev{d.Cluster, d.Kind, d.Model})
	}
	reasons := slices.Clone(snapshot.IdleReasons)
	for _, x := range s.Idle {
		d := dev{x.Cluster, x.Kind, x.Model}
		note(d)
		if idle[d] == nil {
			idle[d] = map[string]float64{}
		}
		idle[d][x.Reason] += x.Seconds
		if !slices.Contains(reasons, x.Reason) {
			reasons = append(reasons, x.Reason)
		}
	}
	for _, x := range s.Demand {
		d := dev{x.Cluster, x.Kind, x.Model}
		note(d)
		demand[d] += x.Seconds
	}
	slices.SortFunc(devs, func(a, b dev) int {
		return strings.Compare(a.cluster+"\x00"+a.kind+"\x00"+a.model, b.cluster+"\x00"+b.kind+"\x00"+b.model)
	})
	slices.Sort(reasons)
	for _, d := range devs {
		if d.kind == "" {
			em.emit(mDemandCore, demand[d], d.cluster)
			for _, r := range reasons {
				em.emit(mIdleCore, idle[d][r], d.cluster, r)
			}
			continue
		}
		em.emit(mDemandAccel, demand[d], d.cluster, d.kind, d.model)
		for _, r := range reasons {
			em.emit(mIdleAccel, idle[d][r], d.cluster, d.kind, d.model, r)
		}
	}
}
