package planning

import (
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
)

func TestFriction(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ai := func(user, name string, dev accel.Device, state job.State, submit, start, end int) Job {
		return Job{Cluster: "c", User: user, Name: name, Class: classify.AITraining, State: state,
			Submit: at(submit), Start: at(start), End: at(end), Devices: []DeviceCount{{Device: dev, Count: 1}}}
	}
	jobs := []Job{
		ai("u1", "port", dev910B, job.StateFailed, 0, 0, 30),          // failed, resubmitted at 60
		ai("u1", "port", dev910B, job.StateOutOfMemory, 60, 60, 65),   // failed, resubmitted at 120
		ai("u1", "port", dev910B, job.StateCompleted, 120, 125, 325),  // fine
		ai("u2", "serve", dev910B, job.StateCancelled, 0, 10, 19),     // cancelled after 9 min: failed, not resubmitted
		ai("u2", "serve", dev910B, job.StateCancelled, 0, 10, 20),     // cancelled after 10 min: not a failure
		ai("u3", "train", devA100, job.StateNodeFail, 0, 0, 100),      // failed, resubmitted by another user only
		ai("u4", "train", devA100, job.StateCompleted, 130, 130, 230), // another user's job of the same name
		ai("u3", "train", devA100, job.StateTimeout, 300, 300, 400),   // not a failure
		ai("u3", "late", devA100, job.StateFailed, 0, 0, 100),         // resubmitted 61 min later: too late
		ai("u3", "late", devA100, job.StateCompleted, 161, 161, 170),  // fine
		ai("u5", "edge", devA100, job.StateFailed, 0, 0, 3000),        // ends after the window
		{Cluster: "c", User: "u6", Name: "md", Class: classify.Other, State: job.StateFailed, Start: at(0), End: at(5), Devices: []DeviceCount{{Device: devA100, Count: 1}}},
	}
	f, err := AdaptationFriction(jobs, t0, at(2000), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]FrictionRow{}
	for _, r := range f.Rows {
		rows[r.Group+"/"+r.Value] = r
	}
	for name, want := range map[string]FrictionRow{
		"model/Ascend 910B": {Group: MixModel, Value: "Ascend 910B", Kind: "npu", Origin: accel.OriginDomestic, Jobs: 5, Failed: 3, StateFailed: 1, OutOfMemory: 1, EarlyCancel: 1, Resubmitted: 2, MedianRunSeconds: 10 * 60},
		"kind/gpu":          {Group: MixKind, Value: "gpu", Jobs: 5, Failed: 2, StateFailed: 1, NodeFail: 1, Resubmitted: 0, MedianRunSeconds: 100 * 60},
		"origin/imported":   {Group: MixOrigin, Value: accel.OriginImported, Jobs: 5, Failed: 2, StateFailed: 1, NodeFail: 1, MedianRunSeconds: 100 * 60},
	} {
		if got := rows[name]; got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	npu := rows["model/Ascend 910B"]
	if s, ok := npu.FailureShare(); !ok || s != 0.6 {
		t.Errorf("failure share %v %v, want 0.6", s, ok)
	}
	if _, ok := (&FrictionRow{}).ResubmitRate(); ok {
		t.Error("resubmit rate without failures is computable")
	}
	if _, err := AdaptationFriction(nil, t0, t0, nil); err == nil {
		t.Error("empty window accepted")
	}
}

// TestFrictionSample checks the sample's failure counts against a plain
// count over the same jobs.
func TestFrictionSample(t *testing.T) {
	sc := loadSample(t)
	from, to := seeds.Window()
	f, err := AdaptationFriction(sc.jobs, from, to, accel.Default().Origin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{}
	for _, j := range sc.jobs {
		if !j.Class.IsAI() || j.Start.IsZero() || j.End.IsZero() || j.Start.Before(from) || !j.End.Before(to) || len(j.Devices) != 1 {
			continue
		}
		k := j.Devices[0].Device.Kind
		c := want[k]
		c[0]++
		if j.State == job.StateFailed || j.State == job.StateNodeFail || j.State == job.StateOutOfMemory ||
			(j.State == job.StateCancelled && j.End.Sub(j.Start) < 10*time.Minute) {
			c[1]++
		}
		want[k] = c
	}
	for _, r := range f.Rows {
		if r.Group != MixKind {
			continue
		}
		if w := want[r.Value]; r.Jobs != w[0] || r.Failed != w[1] {
			t.Errorf("%s: %d jobs %d failed, want %d %d", r.Value, r.Jobs, r.Failed, w[0], w[1])
		}
		delete(want, r.Value)
	}
	if len(want) > 0 {
		t.Errorf("kinds missing: %v", want)
	}
}
