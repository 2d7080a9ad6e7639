package daemon

import (
	"slices"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
)

// TestSampleFrictionCounters: on the sample, every accelerator model has
// its origin, and the ended-AI-job counters count, model by model, the
// failures a plain pass over the daemon's store finds.
func TestSampleFrictionCounters(t *testing.T) {
	d, cancel, done := runSample(t)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	s := d.Snapshot()
	origins := map[string]string{}
	for _, o := range s.Origins {
		origins[o.Model] = o.Origin
	}
	for model, want := range map[string]string{"A100": "imported", "Ascend 910B": "domestic", "K100": "domestic"} {
		if origins[model] != want {
			t.Errorf("origin of %s: %q, want %q", model, origins[model], want)
		}
	}

	failure := map[string]bool{}
	for _, o := range snapshot.FailureOutcomes {
		failure[o] = true
	}
	type sums struct{ jobs, failed float64 }
	got := map[string]sums{}
	for _, f := range s.Friction {
		if f.Origin != origins[f.Model] {
			t.Errorf("%s counted under origin %q", f.Model, f.Origin)
		}
		g := got[f.Model]
		g.jobs += f.Jobs
		if failure[f.Outcome] {
			g.failed += f.Jobs
		}
		got[f.Model] = g
	}

	// The same from the store, by hand: AI jobs holding one known device
	// (the sample's jobs hold one model each) that ended by the counters'
	// time.
	d.mu.RLock()
	want := map[string]sums{}
	complete := uint32(s.Complete.Unix())
	for i, j := range d.mem.Jobs() {
		if !j.Class.IsAI() || j.Start == 0 || j.End == 0 || j.End == ^uint32(0) || j.End > complete {
			continue
		}
		if j.State == job.StateRunning || j.State == job.StatePending || j.State == job.StateSuspended {
			continue
		}
		dcs := d.mem.JobDevices(i)
		if len(dcs) != 1 || !d.mem.Device(dcs[0].Device).Known {
			continue
		}
		model := d.mem.Device(dcs[0].Device).Model
		w := want[model]
		w.jobs++
		run := time.Duration(j.End-j.Start) * time.Second
		if j.State == job.StateFailed || j.State == job.StateNodeFail || j.State == job.StateOutOfMemory ||
			(j.State == job.StateCancelled && run < 10*time.Minute) {
			w.failed++
		}
		want[model] = w
	}
	d.mu.RUnlock()
	if len(want) != 3 {
		t.Fatalf("models in the store: %v", want)
	}
	for model, w := range want {
		if w.jobs == 0 || w.failed == 0 {
			t.Errorf("%s: %+v: the sample's month has ended and failed AI jobs on every model", model, w)
		}
		if got[model] != w {
			t.Errorf("%s: counters %+v, store %+v", model, got[model], w)
		}
	}
}

// TestOutcomesAgree: the exporter's closed set of outcomes is the one the
// planner computes, and its failures are the friction view's.
func TestOutcomesAgree(t *testing.T) {
	if !slices.Equal(snapshot.Outcomes, planning.Outcomes) {
		t.Errorf("snapshot.Outcomes %v, planning.Outcomes %v", snapshot.Outcomes, planning.Outcomes)
	}
	want := []string{planning.OutcomeFailed, planning.OutcomeNodeFail, planning.OutcomeOutOfMemory, planning.OutcomeCancelledEarly}
	if !slices.Equal(snapshot.FailureOutcomes, want) {
		t.Errorf("snapshot.FailureOutcomes %v, want %v", snapshot.FailureOutcomes, want)
	}
}
