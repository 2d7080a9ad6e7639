package planning

import (
	"slices"
	"strings"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// Outcomes of an ended AI job, the values of OutcomeCount.Outcome: the
// failures of the friction view (failed, node_fail, out_of_memory,
// cancelled_early), then the other ways to end. A closed set.
const (
	OutcomeCompleted      = "completed"
	OutcomeFailed         = "failed"
	OutcomeNodeFail       = "node_fail"
	OutcomeOutOfMemory    = "out_of_memory"
	OutcomeCancelledEarly = "cancelled_early"
	OutcomeCancelled      = "cancelled"
	OutcomeTimeout        = "timeout"
	OutcomeOther          = "other"
)

// Outcomes lists the outcomes in display order.
var Outcomes = []string{OutcomeCompleted, OutcomeFailed, OutcomeNodeFail, OutcomeOutOfMemory,
	OutcomeCancelledEarly, OutcomeCancelled, OutcomeTimeout, OutcomeOther}

// Outcome returns how an ended job ended, and false for a job that has not
// ended (pending, running, suspended) or never started. A job counts as
// failed exactly when AdaptationFriction counts it so.
func Outcome(j *Job) (string, bool) {
	if j.Start.IsZero() || j.End.IsZero() {
		return "", false
	}
	switch j.State {
	case job.StatePending, job.StateRunning, job.StateSuspended:
		return "", false
	}
	if how, failed := failure(j); failed {
		return how, true
	}
	switch j.State {
	case job.StateCompleted:
		return OutcomeCompleted, true
	case job.StateCancelled:
		return OutcomeCancelled, true
	case job.StateTimeout, job.StateDeadline:
		return OutcomeTimeout, true
	}
	return OutcomeOther, true
}

// EndOutcome is Outcome for a job known only by its final state, start and
// end (a zero time: not started or not ended): the form a store of
// compact records can ask without building a Job, so that the friction
// counters kept incrementally and EndedOutcomes agree on every job.
func EndOutcome(state job.State, start, end time.Time) (string, bool) {
	return Outcome(&Job{State: state, Start: start, End: end})
}

// OutcomeCount counts the AI jobs of one cluster, device, class and
// outcome, and the seconds they ran.
type OutcomeCount struct {
	Cluster, Kind, Model, Origin, Class, Outcome string
	Jobs                                         int64
	RunSeconds                                   int64
}

// EndedOutcomes counts the AI jobs (training and inference) on
// accelerators that ended at or before to, by cluster, accelerator kind,
// model (ModelName), origin, class and outcome, with the seconds they ran
// (End - Start): the friction view as cumulative counters, since the start
// of the records. A job holding two models counts under each, as in
// AdaptationFriction. The result is sorted by its labels.
func EndedOutcomes(jobs []Job, to time.Time, origin func(accel.Device) string) []OutcomeCount {
	if origin == nil {
		origin = func(d accel.Device) string { return accel.VendorOrigin(d.Vendor) }
	}
	type key struct{ cluster, kind, model, origin, class, outcome string }
	sums := map[key]*OutcomeCount{}
	seen := make([]key, 0, 4)
	for i := range jobs {
		j := &jobs[i]
		if !j.Class.IsAI() || len(j.Devices) == 0 || j.End.After(to) {
			continue
		}
		how, ok := Outcome(j)
		if !ok {
			continue
		}
		run := int64(j.End.Sub(j.Start) / time.Second)
		seen = seen[:0]
		for _, d := range j.Devices {
			k := key{j.Cluster, d.Device.Kind, ModelName(d.Device), origin(d.Device), j.Class.String(), how}
			if slices.Contains(seen, k) {
				continue
			}
			seen = append(seen, k)
			c := sums[k]
			if c == nil {
				c = &OutcomeCount{Cluster: k.cluster, Kind: k.kind, Model: k.model, Origin: k.origin, Class: k.class, Outcome: k.outcome}
				sums[k] = c
			}
			c.Jobs++
			c.RunSeconds += run
		}
	}
	out := make([]OutcomeCount, 0, len(sums))
	for _, c := range sums {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b OutcomeCount) int {
		return strings.Compare(strings.Join([]string{a.Cluster, a.Kind, a.Model, a.Origin, a.Class, a.Outcome}, "\x00"),
			strings.Join([]string{b.Cluster, b.Kind, b.Model, b.Origin, b.Class, b.Outcome}, "\x00"))
	})
	return out
}
