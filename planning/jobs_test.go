package planning

import (
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// TestCollector: a run read twice counts once (the later reading wins,
// at the index the store gives it), a
// request without a model resolves to the partition's one model, and a
// job pending on several partitions counts in the first.
func TestCollector(t *testing.T) {
	inv := testCenter(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	c := NewCollector(inv, nil)
	store := usage.NewStore(nil)
	observe := func(r *job.Record, d classify.Decision) {
		t.Helper()
		i, err := store.AddAt(r, d)
		if err != nil {
			t.Fatal(err)
		}
		c.ObserveAt(i, r, d)
	}
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	running := &job.Record{Cluster: "c", JobID: "1", Partition: "gpu-short", State: job.StateRunning, Submit: t0, Start: t0, Cores: 4,
		Accels: []job.Accel{{Name: "gpu", Count: 2}}}
	observe(running, classify.Decision{Class: classify.AITraining})
	ended := *running
	ended.State, ended.End = job.StateCompleted, t0.Add(time.Hour)
	observe(&ended, classify.Decision{Class: classify.AITraining})
	observe(&job.Record{Cluster: "c", JobID: "2", Partition: "npu,cpu", State: job.StatePending, Submit: t0, Eligible: t0.Add(time.Minute), Cores: 8,
		Accels: []job.Accel{{Name: "npu", Type: "910b", Count: 8}, {Name: "mps", Count: 100}}}, classify.Decision{Class: classify.Unknown})
	jobs := c.Jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
	if j := jobs[0]; j.State != job.StateCompleted || !j.End.Equal(t0.Add(time.Hour)) || len(j.Devices) != 1 || j.Devices[0].Device != devA100 {
		t.Errorf("job 1: %+v", j)
	}
	j := jobs[1]
	if j.Partition != "npu" || len(j.Devices) != 1 || j.Devices[0].Device != dev910B || j.Devices[0].Count != 8 {
		t.Errorf("job 2: %+v", j)
	}
	if from, to, ok := j.Waiting(t0.Add(2 * time.Hour)); !ok || !from.Equal(t0.Add(time.Minute)) || !to.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("job 2 waits %v to %v (%v)", from, to, ok)
	}
}
