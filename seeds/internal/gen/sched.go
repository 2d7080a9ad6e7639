package gen

import (
	"container/heap"
	"math"
	"slices"
	"sort"
)

// run is one allocation attempt of a job: a plain job's run, one array
// task, or a requeued job's later run. The simulation fills in where and
// when it ran.
type run struct {
	j *job
	// task is the array task index, or -1.
	task int
	// seq is 0 for a first run and 1 for the run after a requeue.
	seq      int
	eligible int64
	// prio orders the queue: the job's first eligibility.
	prio int64
	pl   plan
	// limit bounds the run in the scheduler's plan (0: none).
	limit int64

	queued, started, cancelled bool
	start, end                 int64
	// cancelTime is when a run cancelled before starting was cancelled.
	cancelTime int64
	// nodes holds the node indexes of each group.
	nodes [][]int
	// expEnd is when the scheduler expects the run to end (its limit).
	expEnd int64
	// contrib is the run's billing inside the window, in quarter-unit-seconds.
	contrib int64
	// rawID is the id of the allocation (Slurm's JobIDRaw).
	rawID int
}

// endsBefore reports whether the run ended before the dump.
func (r *run) endsBefore(dump int64) bool { return r.started && r.end < dump }

// outcome returns how the run ended (runs that were requeued end REQUEUED).
func (r *run) outcome() outcome {
	if r.j.requeueAfter > 0 && r.seq == 0 {
		return oRequeued
	}
	return r.pl.out
}

// nodeState is the free resources of a partition's nodes and when each is
// usable (it joins the partition, or comes back from a failure).
type nodeState struct {
	freeC, freeA []int
	from         []int64
}

func (st *nodeState) clone() *nodeState {
	return &nodeState{freeC: slices.Clone(st.freeC), freeA: slices.Clone(st.freeA), from: slices.Clone(st.from)}
}

// event kinds, in the order they are handled at one instant: resources are
// freed before jobs arrive and before the scheduler looks at the queue.
const (
	evEnd = iota
	evCancel
	evArrive
	evWake
)

type event struct {
	t    int64
	kind int
	seq  int64
	r    *run
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(a, b int) bool {
	if h[a].t != h[b].t {
		return h[a].t < h[b].t
	}
	if h[a].kind != h[b].kind {
		return h[a].kind < h[b].kind
	}
	return h[a].seq < h[b].seq
}
func (h eventHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// maxScan bounds how deep one scheduling pass looks into the queue, like
// Slurm's default_queue_depth and bf_max_job_test.
const maxScan = 200

// sim schedules one partition: jobs in priority order (first come, first
// served), the first job that cannot start gets a reservation, and later
// jobs start ahead of it only where they cannot delay it (EASY backfill).
type sim struct {
	p       *partition
	st      *nodeState
	now     int64
	dump    int64
	queue   []*run
	running []*run // sorted by expEnd
	ev      eventHeap
	seq     int64
	// use is what each user holds, for the per-user caps.
	use map[*user]*holding
}

// holding is what one user holds in the partition.
type holding struct{ cores, accels int }

// overCap reports whether starting r would take its user over the
// partition's per-user cap.
func (s *sim) overCap(r *run) bool {
	p := s.p
	if p.maxUserCores == 0 && p.maxUserAccels == 0 {
		return false
	}
	h := s.use[r.j.u]
	if h == nil {
		return false
	}
	_, cores, accels := totals(r.j.groups)
	return p.maxUserCores > 0 && h.cores+cores > p.maxUserCores || p.maxUserAccels > 0 && h.accels+accels > p.maxUserAccels
}

// hold adds sign times r's resources to its user's holding.
func (s *sim) hold(r *run, sign int) {
	h := s.use[r.j.u]
	if h == nil {
		h = &holding{}
		s.use[r.j.u] = h
	}
	_, cores, accels := totals(r.j.groups)
	h.cores += sign * cores
	h.accels += sign * accels
}

// simulate runs the partition's jobs from simStart to the dump and records
// every run in the jobs.
func simulate(p *partition, jobs []*job) {
	s := &sim{p: p, dump: WindowEnd.Unix(), use: map[*user]*holding{}}
	s.st = &nodeState{freeC: make([]int, p.nodes), freeA: make([]int, p.nodes), from: make([]int64, p.nodes)}
	for i := range p.nodes {
		s.st.freeC[i], s.st.freeA[i], s.st.from[i] = p.cores, p.accels, p.availableFrom(i)
	}
	if p.expandAt > 0 {
		s.push(event{t: p.expandAt, kind: evWake})
	}
	for _, j := range jobs {
		j.runs = j.runs[:0]
		j.running = 0
		if j.dropped {
			continue
		}
		for k, pl := range j.plans {
			task := -1
			if j.isArray() {
				task = k
			}
			r := &run{j: j, task: task, eligible: j.submit, prio: j.submit, pl: pl, limit: j.limit}
			if j.requeueAfter > 0 {
				r.pl = plan{dur: j.requeueAfter, natural: pl.natural, out: oRequeued}
			}
			j.runs = append(j.runs, r)
			if j.held {
				continue
			}
			s.push(event{t: r.eligible, kind: evArrive, r: r})
			if j.cancelAt > 0 {
				s.push(event{t: j.cancelAt, kind: evCancel, r: r})
			}
		}
	}
	for len(s.ev) > 0 {
		t := s.ev[0].t
		if t >= s.dump {
			break
		}
		s.now = t
		for len(s.ev) > 0 && s.ev[0].t == t {
			s.handle(heap.Pop(&s.ev).(event))
		}
		s.schedule()
	}
}

func (s *sim) push(e event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.ev, e)
}

func (s *sim) handle(e event) {
	r := e.r
	switch e.kind {
	case evArrive:
		r.queued = true
		i := sort.Search(len(s.queue), func(i int) bool { return queueLess(r, s.queue[i]) })
		s.queue = slices.Insert(s.queue, i, r)
	case evCancel:
		if r.queued {
			r.queued, r.cancelled, r.cancelTime = false, true, s.now
			s.queue = slices.DeleteFunc(s.queue, func(q *run) bool { return q == r })
		}
	case evEnd:
		s.release(r)
		j := r.j
		switch {
		case r.pl.out == oNodeFail:
			// The node that failed stays down for a while.
			flat := r.nodes[0]
			n := flat[int(j.failNode*float64(len(flat)))%len(flat)]
			s.st.from[n] = s.now + j.downFor
			s.push(event{t: s.st.from[n], kind: evWake})
		case r.outcome() == oRequeued:
			next := &run{j: j, task: r.task, seq: 1, eligible: s.now + j.requeueDelay, prio: r.prio, pl: j.plans[0], limit: r.limit}
			j.runs = append(j.runs, next)
			s.push(event{t: next.eligible, kind: evArrive, r: next})
		}
	}
}

// queueLess orders the queue: earlier eligibility first, then submission
// order, array tasks in index order.
func queueLess(a, b *run) bool {
	if a.prio != b.prio {
		return a.prio < b.prio
	}
	if a.j.order != b.j.order {
		return a.j.order < b.j.order
	}
	return a.task < b.task
}

// schedule starts what can start now.
func (s *sim) schedule() {
	var blocked *run
	var resv *reservation
	resvDone := false
	scanned := 0
	for i := 0; i < len(s.queue) && scanned < maxScan; {
		r := s.queue[i]
		scanned++
		if r.j.throttle > 0 && r.j.running >= r.j.throttle || s.overCap(r) {
			i++
			continue
		}
		var nodes [][]int
		if blocked == nil {
			if nodes = place(s.p, s.st, s.now, r.j.groups, nil); nodes == nil {
				blocked = r
				i++
				continue
			}
		} else {
			if !resvDone {
				resv, resvDone = s.reserve(blocked), true
			}
			if resv == nil {
				nodes = place(s.p, s.st, s.now, r.j.groups, nil)
			} else {
				nodes = place(s.p, s.st, s.now, r.j.groups, resv.nodes)
				if nodes == nil && r.limit > 0 && s.now+r.limit <= resv.at {
					nodes = place(s.p, s.st, s.now, r.j.groups, nil)
				}
			}
			if nodes == nil {
				i++
				continue
			}
		}
		s.start(r, nodes)
		s.queue = slices.Delete(s.queue, i, i+1)
	}
}

func (s *sim) start(r *run, nodes [][]int) {
	r.queued, r.started, r.start, r.nodes = false, true, s.now, nodes
	r.end = s.now + r.pl.dur
	r.expEnd = math.MaxInt64
	if r.limit > 0 {
		r.expEnd = s.now + r.limit
	}
	for gi, g := range r.j.groups {
		for _, n := range nodes[gi] {
			s.st.freeC[n] -= g.cores
			s.st.freeA[n] -= g.accels
		}
	}
	r.j.running++
	s.hold(r, 1)
	i := sort.Search(len(s.running), func(i int) bool { return s.running[i].expEnd > r.expEnd })
	s.running = slices.Insert(s.running, i, r)
	s.push(event{t: r.end, kind: evEnd, r: r})
}

func (s *sim) release(r *run) {
	for gi, g := range r.j.groups {
		for _, n := range r.nodes[gi] {
			s.st.freeC[n] += g.cores
			s.st.freeA[n] += g.accels
		}
	}
	r.j.running--
	s.hold(r, -1)
	s.running = slices.DeleteFunc(s.running, func(q *run) bool { return q == r })
}

// reservation is where and when the first blocked job will start.
type reservation struct {
	at    int64
	nodes []bool
}

// reserve plans the blocked job: it frees running jobs in the order their
// time limits expire (and brings back nodes that are down or not yet
// installed) until the job fits. It returns nil when the job cannot be
// planned, because jobs without a limit hold what it needs.
func (s *sim) reserve(b *run) *reservation {
	st := s.st.clone()
	p := s.p
	// The main group decides whether it is worth trying a placement.
	main := b.j.groups[0]
	need := 0
	for _, g := range b.j.groups {
		need += g.nodes
		if g.nodes > main.nodes {
			main = g
		}
	}
	fits := func(n int, t int64) bool {
		return st.from[n] <= t && st.freeC[n] >= main.cores && st.freeA[n] >= main.accels
	}
	type wake struct {
		t int64
		n int
	}
	var wakes []wake
	for n := range p.nodes {
		if st.from[n] > s.now {
			wakes = append(wakes, wake{st.from[n], n})
		}
	}
	sort.Slice(wakes, func(a, b int) bool {
		return wakes[a].t < wakes[b].t || wakes[a].t == wakes[b].t && wakes[a].n < wakes[b].n
	})
	count := 0
	for n := range p.nodes {
		if fits(n, s.now) {
			count++
		}
	}
	ri, wi := 0, 0
	for ri < len(s.running) || wi < len(wakes) {
		var t int64
		if ri < len(s.running) && s.running[ri].expEnd != math.MaxInt64 && (wi >= len(wakes) || max(s.running[ri].expEnd, s.now) <= wakes[wi].t) {
			r := s.running[ri]
			ri++
			t = max(r.expEnd, s.now)
			for gi, g := range r.j.groups {
				for _, n := range r.nodes[gi] {
					before := fits(n, t)
					st.freeC[n] += g.cores
					st.freeA[n] += g.accels
					if !before && fits(n, t) {
						count++
					}
				}
			}
		} else if wi < len(wakes) {
			w := wakes[wi]
			wi++
			t = w.t
			// Nodes already counted stay counted; a node that wakes may
			// now fit. Recount from scratch is cheap here: wakes are rare.
			count = 0
			for n := range p.nodes {
				if fits(n, t) {
					count++
				}
			}
		} else {
			break // only jobs without a limit are left
		}
		if count < need {
			continue
		}
		if nodes := place(p, st, t, b.j.groups, nil); nodes != nil {
			mask := make([]bool, p.nodes)
			for _, ns := range nodes {
				for _, n := range ns {
					mask[n] = true
				}
			}
			return &reservation{at: t, nodes: mask}
		}
	}
	return nil
}

// place chooses nodes for the groups at time t, avoiding the nodes in
// excl. Whole-node groups take the first free nodes in name order, as
// Slurm's node selection tends to; partial groups go where they fit best
// (the node left with the fewest free accelerators, then cores), which
// keeps whole nodes free for the jobs that need them. It returns nil when
// the groups do not fit; st is left unchanged.
func place(p *partition, st *nodeState, t int64, groups []group, excl []bool) [][]int {
	out := make([][]int, len(groups))
	var taken []int // nodes chosen for earlier groups, with their use
	var tc, ta []int
	undo := func() {
		for k, n := range taken {
			st.freeC[n] += tc[k]
			st.freeA[n] += ta[k]
		}
	}
	for gi, g := range groups {
		ok := func(n int) bool {
			return st.from[n] <= t && (excl == nil || !excl[n]) && st.freeC[n] >= g.cores && st.freeA[n] >= g.accels
		}
		chosen := make([]int, 0, g.nodes)
		if g.whole(p) {
			for n := 0; n < p.nodes && len(chosen) < g.nodes; n++ {
				if ok(n) {
					chosen = append(chosen, n)
				}
			}
		} else {
			for len(chosen) < g.nodes {
				best, bestKey := -1, 0
				for n := 0; n < p.nodes; n++ {
					if !ok(n) || slices.Contains(chosen, n) {
						continue
					}
					key := (st.freeA[n]-g.accels)*(p.cores+1) + st.freeC[n] - g.cores
					if best < 0 || key < bestKey {
						best, bestKey = n, key
					}
				}
				if best < 0 {
					break
				}
				chosen = append(chosen, best)
			}
		}
		if len(chosen) < g.nodes {
			undo()
			return nil
		}
		for _, n := range chosen {
			st.freeC[n] -= g.cores
			st.freeA[n] -= g.accels
			taken, tc, ta = append(taken, n), append(tc, g.cores), append(ta, g.accels)
		}
		out[gi] = chosen
	}
	undo()
	return out
}
