package exporter

import (
	"slices"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/snapshot"
)

// originIndex maps each accelerator (kind, model) of the snapshot to its
// origin; the first entry of a duplicated device wins.
func originIndex(s *snapshot.Snapshot) map[[2]string]string {
	m := make(map[[2]string]string, len(s.Origins))
	for _, o := range s.Origins {
		k := [2]string{o.Kind, o.Model}
		if _, dup := m[k]; !dup && o.Origin != "" {
			m[k] = o.Origin
		}
	}
	return m
}

// origin returns the origin label of a device: unknown when the snapshot
// does not name it.
func (v *view) origin(kind, model string) string {
	if o, ok := v.origins[[2]string{kind, model}]; ok {
		return o
	}
	return accel.OriginUnknown
}

// aiClasses are the classes the friction counters split by.
var aiClasses = []string{"ai_inference", "ai_training"}

// friction emits the ended-AI-job counters: every (cluster, kind, model)
// of the snapshot's devices crossed with the AI classes and every outcome,
// zeros included, extended by what the data names. The origin of a device
// comes from the snapshot's origins, else from the data.
func (em emitter) friction(s *snapshot.Snapshot) {
	if len(s.Friction) == 0 && len(s.Allocated) == 0 {
		return // no counters yet: nothing complete
	}
	type dev struct{ cluster, kind, model, origin string }
	type fkey struct {
		dev
		class, outcome string
	}
	origins := originIndex(s)
	originOf := func(kind, model, fallback string) string {
		if o, ok := origins[[2]string{kind, model}]; ok {
			return o
		}
		if fallback != "" {
			return fallback
		}
		return accel.OriginUnknown
	}
	vals := map[fkey][2]float64{}
	var devs []dev
	seen := map[dev]bool{}
	note := func(d dev) {
		if !seen[d] {
			seen[d] = true
			devs = append(devs, d)
		}
	}
	for _, d := range s.Devices {
		note(dev{d.Cluster, d.Kind, d.Model, originOf(d.Kind, d.Model, "")})
	}
	classes := slices.Clone(aiClasses)
	outcomes := slices.Clone(snapshot.Outcomes)
	for _, f := range s.Friction {
		d := dev{f.Cluster, f.Kind, f.Model, originOf(f.Kind, f.Model, f.Origin)}
		note(d)
		k := fkey{d, f.Class, f.Outcome}
		v := vals[k]
		vals[k] = [2]float64{v[0] + f.Jobs, v[1] + f.RunSeconds}
		classes = appendNew(classes, f.Class)
		outcomes = appendNew(outcomes, f.Outcome)
	}
	slices.SortFunc(devs, func(a, b dev) int {
		return cmpStrings(a.cluster, b.cluster, a.kind, b.kind, a.model, b.model, a.origin, b.origin)
	})
	slices.Sort(classes)
	slices.Sort(outcomes)
	// Label names in order: class, cluster, kind, model, origin, outcome.
	for _, c := range classes {
		for _, d := range devs {
			for _, o := range outcomes {
				v := vals[fkey{d, c, o}]
				em.emit(mAIJobsEnded, v[0], d.cluster, d.kind, d.model, d.origin, c, o)
			}
		}
	}
	for _, c := range classes {
		for _, d := range devs {
			for _, o := range outcomes {
				v := vals[fkey{d, c, o}]
				em.emit(mAIJobRun, v[1], d.cluster, d.kind, d.model, d.origin, c, o)
			}
		}
	}
}
