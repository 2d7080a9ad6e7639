package planning

import (
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
)

func TestEndedOutcomes(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ai := func(class classify.Class, state job.State, start, end int, devs ...accel.Device) Job {
		j := Job{Cluster: "c", Class: class, State: state, Start: at(start), End: at(end)}
		if end < 0 {
			j.End = time.Time{}
		}
		for _, d := range devs {
			j.Devices = append(j.Devices, DeviceCount{Device: d, Count: 2})
		}
		return j
	}
	jobs := []Job{
		ai(classify.AITraining, job.StateFailed, 0, 30, dev910B),
		ai(classify.AITraining, job.StateFailed, 10, 20, dev910B),
		ai(classify.AITraining, job.StateCancelled, 0, 9, dev910B),   // cancelled_early
		ai(classify.AITraining, job.StateCancelled, 0, 10, dev910B),  // cancelled
		ai(classify.AIInference, job.StateCompleted, 0, 60, devA100), // completed
		ai(classify.AIInference, job.StateDeadline, 0, 60, devA100),  // timeout
		ai(classify.AIInference, job.StateBootFail, 0, 1, devA100),   // other
		ai(classify.AITraining, job.StateNodeFail, 0, 100, devA100, dev910B),
		ai(classify.AITraining, job.StateRunning, 0, -1, devA100),          // not ended
		ai(classify.AITraining, job.StateOutOfMemory, 0, 2000, devA100),    // ends after to
		ai(classify.Other, job.StateFailed, 0, 5, devA100),                 // not AI
		ai(classify.AITraining, job.StateFailed, 0, 5),                     // no accelerator
		{Cluster: "c", Class: classify.AITraining, State: job.StateFailed}, // never started
	}
	got := map[string][2]int64{}
	for _, c := range EndedOutcomes(jobs, at(1000), nil) {
		got[c.Model+"/"+c.Origin+"/"+c.Class+"/"+c.Outcome] = [2]int64{c.Jobs, c.RunSeconds}
	}
	want := map[string][2]int64{
		"Ascend 910B/domestic/ai_training/failed":          {2, 40 * 60},
		"Ascend 910B/domestic/ai_training/cancelled_early": {1, 9 * 60},
		"Ascend 910B/domestic/ai_training/cancelled":       {1, 10 * 60},
		"Ascend 910B/domestic/ai_training/node_fail":       {1, 100 * 60},
		"A100/imported/ai_training/node_fail":              {1, 100 * 60},
		"A100/imported/ai_inference/completed":             {1, 60 * 60},
		"A100/imported/ai_inference/timeout":               {1, 60 * 60},
		"A100/imported/ai_inference/other":                 {1, 60},
	}
	if len(got) != len(want) {
		t.Errorf("got %d series, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
}

// TestEndedOutcomesAgreeWithFriction checks the counters against the
// friction view over a window holding every job of the sample: the same
// jobs, the same failures, model by model.
func TestEndedOutcomesAgreeWithFriction(t *testing.T) {
	sc := loadSample(t)
	var from, to time.Time
	for _, j := range sc.jobs {
		if j.Start.IsZero() || j.End.IsZero() {
			continue
		}
		if from.IsZero() || j.Start.Before(from) {
			from = j.Start
		}
		if j.End.After(to) {
			to = j.End
		}
	}
	f, err := AdaptationFriction(sc.jobs, from, to.Add(time.Second), accel.Default().Origin)
	if err != nil {
		t.Fatal(err)
	}
	type sum struct{ jobs, failed int64 }
	byModel := map[string]sum{}
	failures := map[string]bool{OutcomeFailed: true, OutcomeNodeFail: true, OutcomeOutOfMemory: true, OutcomeCancelledEarly: true}
	for _, c := range EndedOutcomes(sc.jobs, to, accel.Default().Origin) {
		s := byModel[c.Model]
		s.jobs += c.Jobs
		if failures[c.Outcome] {
			s.failed += c.Jobs
		}
		byModel[c.Model] = s
	}
	n := 0
	for _, r := range f.Rows {
		if r.Group != MixModel {
			continue
		}
		n++
		if got := byModel[r.Value]; got.jobs != r.Jobs || got.failed != r.Failed {
			t.Errorf("%s: counters %d jobs %d failed, friction view %d %d", r.Value, got.jobs, got.failed, r.Jobs, r.Failed)
		}
	}
	if n != len(byModel) || n == 0 {
		t.Errorf("%d models in the view, %d in the counters", n, len(byModel))
	}
}

// BenchmarkEndedOutcomes100k measures the friction counters over 100,000
// jobs, what scmon serve recomputes after every poll.
func BenchmarkEndedOutcomes100k(b *testing.B) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	jobs := genJobs(1, t0, 100_000)
	for i := range jobs {
		if i%2 == 0 {
			jobs[i].Class = classify.AITraining
		}
		jobs[i].State = []job.State{job.StateCompleted, job.StateFailed, job.StateCancelled, job.StateTimeout}[i%4]
	}
	b.ReportAllocs()
	for b.Loop() {
		EndedOutcomes(jobs, t0.Add(48*time.Hour), nil)
	}
}

// TestEndOutcome: the compact form says what Outcome says of the same
// job, for every state, ended or not, short or long.
func TestEndOutcome(t *testing.T) {
	start := time.Date(2026, 10, 20, 3, 0, 0, 0, time.UTC)
	states := []job.State{job.StatePending, job.StateRunning, job.StateSuspended, job.StateCompleted, job.StateFailed,
		job.StateNodeFail, job.StateOutOfMemory, job.StateCancelled, job.StateTimeout, job.StateDeadline, job.StateUnknown}
	got := map[string]bool{}
	for _, st := range states {
		for _, s := range []time.Time{{}, start} {
			for _, e := range []time.Time{{}, start.Add(time.Minute), start.Add(EarlyCancel), start.Add(5 * time.Hour)} {
				j := &Job{State: st, Start: s, End: e, Cluster: "c", Class: classify.AITraining}
				wo, wok := Outcome(j)
				o, ok := EndOutcome(st, s, e)
				if o != wo || ok != wok {
					t.Errorf("%v %v %v: EndOutcome %q %v, Outcome %q %v", st, s, e, o, ok, wo, wok)
				}
				if ok {
					got[o] = true
				}
			}
		}
	}
	if len(got) != len(Outcomes) {
		t.Errorf("the table reaches %d of the %d outcomes: %v", len(got), len(Outcomes), got)
	}
}
