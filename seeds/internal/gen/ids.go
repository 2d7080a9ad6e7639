package gen

import (
	"slices"
)

// firstJobID is the first job id handed out in the simulation.
const firstJobID = 4_372_001

// assignIDs numbers the jobs as slurmctld does, in the order things happen:
// a job gets its id when it is submitted (a heterogeneous job one per
// component); an array job gets one id, and each task that starts is split
// off with a new id, except the last one, which keeps the array's.
func assignIDs(jobs []*job) {
	type ev struct {
		t     int64
		kind  int // 0 submission, 1 array task split
		order int64
		task  int
		j     *job
		r     *run
	}
	var evs []ev
	for _, j := range jobs {
		evs = append(evs, ev{t: j.submit, order: j.order, task: -1, j: j})
		if !j.isArray() {
			continue
		}
		keeper := arrayKeeper(j)
		for _, r := range j.runs {
			if r.started && r != keeper {
				evs = append(evs, ev{t: r.start, kind: 1, order: j.order, task: r.task, j: j, r: r})
			}
		}
	}
	slices.SortFunc(evs, func(a, b ev) int {
		switch {
		case a.t != b.t:
			return cmp64(a.t, b.t)
		case a.kind != b.kind:
			return a.kind - b.kind
		case a.order != b.order:
			return cmp64(a.order, b.order)
		}
		return a.task - b.task
	})
	next := firstJobID
	for _, e := range evs {
		if e.kind == 1 {
			e.r.rawID = next
			next++
			continue
		}
		e.j.id = next
		next += len(e.j.groups)
		for _, r := range e.j.runs {
			r.rawID = e.j.id
		}
	}
}

// arrayKeeper returns the task that keeps the array's own id: the last to
// start, when every task has started; none while some are still pending.
func arrayKeeper(j *job) *run {
	var keeper *run
	for _, r := range j.runs {
		if !r.started {
			return nil
		}
		if keeper == nil || r.start > keeper.start || r.start == keeper.start && r.task > keeper.task {
			keeper = r
		}
	}
	return keeper
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
