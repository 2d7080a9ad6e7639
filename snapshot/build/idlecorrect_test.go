package build_test

import (
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/planning"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/snapshot/build"
	"github.com/scmon/scmon/usage"
)

// TestIdleSplitAfterCorrectedEnd: a job whose end a later record moves
// (later, or earlier) after the idle split counted past its first end.
// The split of the time not yet published is that of the corrected job,
// exactly (a from-scratch planning.Idle over that time); the seconds
// already published keep the reasons they were published under (a counter
// cannot move seconds between reasons without going down), so over the
// whole history the split differs from a from-scratch one by the
// corrected seconds before the last publish, and by nothing else.
func TestIdleSplitAfterCorrectedEnd(t *testing.T) {
	inv, table := sampleCenter(t)
	t0 := time.Date(2026, 10, 20, 3, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	const cores = 64
	tests := []struct {
		name             string
		firstEnd, newEnd time.Time
		// pastIdle is how many idle core-seconds before the first publish
		// the correction made busy (> 0) or idle (< 0): they stay published
		// as they were.
		pastIdle int64
	}{
		{"moved later, past the last publish", m(20), m(50), cores * 10 * 60},
		{"moved later, before the last publish", m(10), m(25), cores * 15 * 60},
		{"moved earlier, before the last publish", m(50), m(10), -cores * 20 * 60},
		{"moved earlier, after the last publish", m(50), m(40), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := usage.NewStore(table)
			b := build.New()
			publish := func(complete time.Time) *snapshot.Snapshot {
				t.Helper()
				s, err := b.Build(&build.Inputs{Now: complete, Complete: complete, Origin: t0, Engine: eng, Inventory: inv,
					NodesAt: complete, DeviceOrigin: table.Origin})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			rec := func(end time.Time) *job.Record {
				return &job.Record{JobID: "7", Cluster: "sample", Partition: "cpu", User: "u", Account: "a", State: job.StateCompleted,
					Submit: t0, Start: t0, End: end, Cores: cores, Nodes: 1, NodeList: "cn0001"}
			}
			// A neighbour running throughout, so that the cluster is not
			// all idle.
			nb := &job.Record{JobID: "8", Cluster: "sample", Partition: "cpu", User: "u", Account: "a", State: job.StateRunning,
				Submit: t0, Start: t0, Cores: 32, Nodes: 1, NodeList: "cn0002"}
			// A job that waited from t0 to m(55) for more cores than the
			// partition's idle ones: its wait makes some idle time blocked.
			waiter := &job.Record{JobID: "9", Cluster: "sample", Partition: "cpu", User: "u", Account: "a", State: job.StateRunning,
				Submit: t0, Start: m(55), Cores: 96, Nodes: 1, NodeList: "cn0003"}
			dec := classify.Decision{Class: job.ClassOther}
			for _, r := range []*job.Record{nb, waiter, rec(tc.firstEnd)} {
				if err := eng.Add(r, dec); err != nil {
					t.Fatal(err)
				}
			}
			p1, p2 := m(30), m(60)
			first := coreIdle(publish(p1))
			if err := eng.Add(rec(tc.newEnd), dec); err != nil {
				t.Fatal(err)
			}
			second := coreIdle(publish(p2))
			jobs := planning.JobsFromStore(eng, inv, table, nil, "")
			want := func(from, to time.Time) planning.Split {
				t.Helper()
				split, err := planning.Idle(jobs, planning.IdleQuery{From: from, To: to, Inventory: inv})
				if err != nil {
					t.Fatal(err)
				}
				return split.Cores
			}
			after := want(p1, p2)
			if after.Blocked == 0 || after.NoDemand == 0 {
				t.Fatalf("the split over [p1, p2) %+v: want blocked and no_demand time both", after)
			}
			for _, r := range planning.Reasons {
				if second[r] < first[r] {
					t.Errorf("%s went down from %d to %d", r, first[r], second[r])
				}
				if got := second[r] - first[r]; got != after.Reason(r) {
					t.Errorf("%s over [p1, p2): %d core-seconds published, the corrected job's split %d", r, got, after.Reason(r))
				}
			}
			// The published past: as it was, off the corrected split by
			// the corrected seconds.
			whole := want(t0, p2)
			var gotIdle int64
			for _, r := range planning.Reasons {
				gotIdle += second[r]
			}
			if diff := gotIdle - whole.Idle(); diff != tc.pastIdle {
				t.Errorf("published idle %d, the corrected split's %d: off by %d, want %d (the corrected seconds before p1)",
					gotIdle, whole.Idle(), diff, tc.pastIdle)
			}
		})
	}
}

// coreIdle returns the published idle core-seconds of the cluster by
// reason.
func coreIdle(s *snapshot.Snapshot) map[string]int64 {
	out := map[string]int64{}
	for _, i := range s.Idle {
		if i.Cluster == "sample" && i.Kind == "" {
			out[i.Reason] += int64(i.Seconds)
		}
	}
	return out
}
