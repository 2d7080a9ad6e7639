package planning

import (
	"slices"
	"testing"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/snapshot"
)

// TestJobsFromStore: the idle split of the usage store's jobs (what scmon
// serve keeps) equals the split of the same records once every wait is
// dated from submission, as the store must.
func TestJobsFromStore(t *testing.T) {
	sc := loadSample(t)
	from, to := seeds.Window()
	// The records with Eligible dropped and never-started jobs left out are
	// what the store can give.
	var records []Job
	for _, j := range sc.jobs {
		if j.Start.IsZero() && j.State != job.StatePending {
			continue
		}
		j.Eligible = j.Submit
		if j.Start.IsZero() {
			continue // pending records come to JobsFromStore apart
		}
		records = append(records, j)
	}
	fromStore := JobsFromStore(sc.store, sc.inv, nil, nil, "")
	a, err := Idle(records, IdleQuery{From: from, To: to, Inventory: sc.inv})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Idle(fromStore, IdleQuery{From: from, To: to, Inventory: sc.inv})
	if err != nil {
		t.Fatal(err)
	}
	if a.Cores != b.Cores || a.Accelerators != b.Accelerators {
		t.Errorf("records:\n %+v\n %+v\nstore:\n %+v\n %+v", a.Cores, a.Accelerators, b.Cores, b.Accelerators)
	}
	if b.Cores.Blocked == 0 {
		t.Errorf("no blocked time from the store: %+v", b.Cores)
	}
}

// TestReasonsMatchSnapshot: the exporter's closed set of reasons is the
// split's.
func TestReasonsMatchSnapshot(t *testing.T) {
	if !slices.Equal(Reasons, snapshot.IdleReasons) {
		t.Errorf("planning.Reasons %v, snapshot.IdleReasons %v", Reasons, snapshot.IdleReasons)
	}
}
