package planning

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/job"
)

// EarlyCancel is how soon after its start a cancelled job counts as a
// failure: a job cancelled in its first minutes did not run as meant
// (it hung at start, found no device, was misconfigured).
const EarlyCancel = 10 * time.Minute

// ResubmitWithin is how soon after a failure a submission of the same job
// name by the same user counts as its resubmission.
const ResubmitWithin = time.Hour

// FrictionRow is adaptation friction on one accelerator kind, model or
// origin: how AI jobs there end.
type FrictionRow struct {
	Group  string `json:"group"` // kind, model or origin
	Value  string `json:"value"`
	Kind   string `json:"kind,omitempty"`
	Origin string `json:"origin,omitempty"`
	// Jobs counts AI jobs that ran on it and ended in the window.
	Jobs int64 `json:"jobs"`
	// Failed counts those that ended FAILED, NODE_FAIL or OUT_OF_MEMORY,
	// or were cancelled within EarlyCancel of their start; the split by
	// way of ending follows.
	Failed      int64 `json:"failed"`
	StateFailed int64 `json:"state_failed"`
	NodeFail    int64 `json:"node_fail"`
	OutOfMemory int64 `json:"out_of_memory"`
	EarlyCancel int64 `json:"cancelled_early"`
	// Resubmitted counts failures followed, within ResubmitWithin of their
	// end, by a submission of the same job name by the same user.
	Resubmitted int64 `json:"resubmitted"`
	// MedianRunSeconds is the median run time of the jobs (End - Start).
	MedianRunSeconds int64 `json:"median_run_seconds"`
}

// FailureShare returns Failed / Jobs; ok is false with no jobs.
func (r *FrictionRow) FailureShare() (float64, bool) { return ratio(r.Failed, r.Jobs) }

// ResubmitRate returns Resubmitted / Failed; ok is false with no failure.
func (r *FrictionRow) ResubmitRate() (float64, bool) { return ratio(r.Resubmitted, r.Failed) }

// Friction is the answer of AdaptationFriction.
type Friction struct {
	From time.Time     `json:"from"`
	To   time.Time     `json:"to"`
	Rows []FrictionRow `json:"rows"`
}

// failure reports whether a job that ended failed in the sense of
// FrictionRow.Failed, and how.
func failure(j *Job) (string, bool) {
	switch j.State {
	case job.StateFailed:
		return "failed", true
	case job.StateNodeFail:
		return "node_fail", true
	case job.StateOutOfMemory:
		return "out_of_memory", true
	case job.StateCancelled:
		if j.End.Sub(j.Start) < EarlyCancel {
			return "cancelled_early", true
		}
	}
	return "", false
}

// AdaptationFriction measures, for AI jobs (training and inference) that
// started and ended in [from, to), per accelerator kind, model and origin:
// the share that failed, the median run time, and how often a failure was
// resubmitted. A job holding two models counts under each.
func AdaptationFriction(jobs []Job, from, to time.Time, origin func(accel.Device) string) (*Friction, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("friction: window %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if origin == nil {
		origin = func(d accel.Device) string { return accel.VendorOrigin(d.Vendor) }
	}
	counted := func(j *Job) bool {
		return j.Class.IsAI() && !j.Start.IsZero() && !j.End.IsZero() && !j.End.Before(from) && j.End.Before(to) && !j.Start.Before(from)
	}
	// Submissions by (user, name), sorted, to find resubmissions: only
	// of the names of failed jobs counted, which are the ones asked.
	type un struct{ user, name string }
	subs := map[un][]time.Time{}
	for i := range jobs {
		j := &jobs[i]
		if _, failed := failure(j); failed && j.Name != "" && counted(j) {
			subs[un{j.User, j.Name}] = nil
		}
	}
	for i := range jobs {
		j := &jobs[i]
		if len(subs) > 0 && !j.Submit.IsZero() && j.Name != "" {
			k := un{j.User, j.Name}
			if s, ok := subs[k]; ok {
				subs[k] = append(s, j.Submit)
			}
		}
	}
	for _, s := range subs {
		slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	}
	resubmitted := func(j *Job) bool {
		s := subs[un{j.User, j.Name}]
		i, _ := slices.BinarySearchFunc(s, j.End, func(a, b time.Time) int { return a.Compare(b) })
		for ; i < len(s); i++ {
			if s[i].After(j.End.Add(ResubmitWithin)) {
				return false
			}
			if s[i].After(j.Start) { // not the job's own submission
				return true
			}
		}
		return false
	}

	type key struct{ group, value string }
	rows := map[key]*FrictionRow{}
	runs := map[key][]int64{}
	for i := range jobs {
		j := &jobs[i]
		if !counted(j) {
			continue
		}
		how, failed := failure(j)
		resub := failed && j.Name != "" && resubmitted(j)
		var seen []key
		for _, d := range j.Devices {
			o := origin(d.Device)
			for _, k := range []key{{MixKind, d.Device.Kind}, {MixModel, ModelName(d.Device)}, {MixOrigin, o}} {
				if slices.Contains(seen, k) {
					continue
				}
				seen = append(seen, k)
				r := rows[k]
				if r == nil {
					r = &FrictionRow{Group: k.group, Value: k.value}
					if k.group == MixModel {
						r.Kind, r.Origin = d.Device.Kind, o
					}
					rows[k] = r
				}
				r.Jobs++
				runs[k] = append(runs[k], int64(j.End.Sub(j.Start)/time.Second))
				if failed {
					r.Failed++
					switch how {
					case "failed":
						r.StateFailed++
					case "node_fail":
						r.NodeFail++
					case "out_of_memory":
						r.OutOfMemory++
					case "cancelled_early":
						r.EarlyCancel++
					}
					if resub {
						r.Resubmitted++
					}
				}
			}
		}
	}
	out := &Friction{From: from, To: to}
	for k, r := range rows {
		r.MedianRunSeconds = median(runs[k])
		out.Rows = append(out.Rows, *r)
	}
	order := map[string]int{MixKind: 0, MixModel: 0, MixOrigin: 1}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if order[a.Group] != order[b.Group] {
			return order[a.Group] < order[b.Group]
		}
		if a.Group == MixOrigin {
			return slices.Index(accel.Origins, a.Value) < slices.Index(accel.Origins, b.Value)
		}
		ka, kb := a.Value, b.Value
		if a.Group == MixModel {
			ka = a.Kind
		}
		if b.Group == MixModel {
			kb = b.Kind
		}
		if ka != kb {
			ia, ib := slices.Index(accel.Kinds, ka), slices.Index(accel.Kinds, kb)
			if ia != ib {
				return ia < ib
			}
			return ka < kb
		}
		if a.Group != b.Group {
			return a.Group == MixKind
		}
		return a.Value < b.Value
	})
	return out, nil
}

// median returns the median of v (the mean of the middle two for an even
// count, rounded down); zero for none.
func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
