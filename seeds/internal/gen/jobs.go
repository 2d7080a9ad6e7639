package gen

import (
	"fmt"
	"math/rand/v2"
)

// seed is the generator's fixed seed. Changing it gives another, equally
// plausible month.
const seed = 0x5c3a_2026_1001

// outcome is how a run ends when it ends before the dump.
type outcome uint8

const (
	oCompleted outcome = iota
	oFailed
	oCancelled
	oTimeout
	oOOM
	oNodeFail
	oRequeued
)

// plan is what one run of a job (or one array task) will do once started.
type plan struct {
	// dur is how long the run holds its nodes; natural is how long the work
	// would have taken (steps are laid out over it).
	dur, natural int64
	out          outcome
	// exit is the job's ExitCode when the run fails.
	exit string
}

// job is one submission: a plain job, an array (one run per task) or a
// heterogeneous job (one group per component).
type job struct {
	cell, index int
	// order breaks ties between jobs submitted at the same second.
	order int64
	// seed seeds the job's text, so that it can be written again for each
	// run without replaying the generator.
	seed   uint64
	w      *workload
	p      *partition
	u      *user
	submit int64
	groups []group
	// limit is the time limit in seconds (0: none); limitText as sacct
	// prints it.
	limit     int64
	limitText string
	qos       string
	wckey     string
	comment   string
	// plans holds one plan per array task, or one for a plain job.
	plans    []plan
	throttle int
	// requeueAfter, when positive, is how long the first run lasts before
	// the job is requeued.
	requeueAfter int64
	requeueDelay int64
	// cancelAt, when positive, is when the user gives up on the job if it
	// has not started yet.
	cancelAt int64
	// held jobs wait on a dependency that is never satisfied.
	held bool
	// cancelUID is who cancels the job, when it is cancelled.
	cancelUID int
	// failNode and downFor say which node fails and for how long, for a
	// NODE_FAIL run.
	failNode float64
	downFor  int64

	runs    []*run
	dropped bool
	// running counts running tasks during the simulation.
	running int
	// id is the job id (array jobs: the array's id; heterogeneous jobs: the
	// id of component 0).
	id int
}

// isArray reports whether the job is an array job.
func (j *job) isArray() bool { return len(j.plans) > 1 || j.w.array != nil }

// niceLimits are the time limits users ask for.
var niceLimits = []int64{10 * minute, 30 * minute, hour, 2 * hour, 3 * hour, 4 * hour, 6 * hour, 8 * hour, 12 * hour,
	day, 2 * day, 3 * day, 4 * day, 5 * day, 7 * day, 10 * day, 14 * day}

// fmtDuration prints seconds as sacct does: [D-]HH:MM:SS.
func fmtDuration(s int64) string {
	d, s := s/day, s%day
	h, s := s/hour, s%hour
	m, s := s/minute, s%minute
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// submitDensity is the relative rate of submissions at Unix time t: more
// in working hours, fewer at night, at weekends and in the National Day
// holiday (October 1-7); the DCU partition gets more users once its new
// nodes are in.
func submitDensity(t int64, p *partition) float64 {
	local := t + 8*hour
	h := (local % day) / hour
	dayNo := local / day
	wd := (dayNo + 4) % 7 // 1970-01-01 was a Thursday
	f := hourFactor[h]
	switch {
	case local >= WindowStart.Unix()+8*hour && local < WindowStart.Unix()+8*hour+7*day:
		f *= 0.8
	case wd == 0 || wd == 6:
		f *= 0.8
	}
	if p.expandAt > 0 && t >= p.expandAt {
		f *= float64(p.nodes) / float64(p.initial)
	}
	return f
}

var hourFactor = [24]float64{0.45, 0.35, 0.3, 0.25, 0.25, 0.3, 0.4, 0.6, 0.9, 1.3, 1.5, 1.5, 1.1, 1.2, 1.5, 1.6, 1.6, 1.5, 1.2, 1.0, 1.1, 1.2, 1.0, 0.7}

// maxDensity bounds submitDensity, for rejection sampling.
const maxDensity = 1.6 * 1.25

// sampleSubmit draws a submission time in [simStart, WindowEnd).
func sampleSubmit(r *rand.Rand, p *partition) int64 {
	lo, hi := simStart.Unix(), WindowEnd.Unix()
	for {
		t := lo + r.Int64N(hi-lo)
		if r.Float64()*maxDensity < submitDensity(t, p) {
			return t
		}
	}
}

// jobRand returns the random stream of job index of cell.
func jobRand(cell, index int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^uint64(cell+1)*0x9e3779b97f4a7c15^stream, uint64(index)))
}

// makeJob draws job index of cell from its own random stream, so that a
// cell's first n jobs are the same whatever the number of jobs asked for.
func makeJob(cell, index int, c *cellDef) *job {
	r := jobRand(cell, index, 0)
	p := partitions[cell/int(nClasses)]
	w := pickW(r, c.workloads, c.weights)
	u := c.pickUser(r, w)
	j := &job{cell: cell, index: index, order: int64(cell)<<32 | int64(index), seed: r.Uint64(), w: w, p: p, u: u, qos: p.qos}
	j.submit = sampleSubmit(r, p)
	j.groups = w.size(r, p)
	natural := max(w.runtime(r), 30)
	j.limit, j.limitText = chooseLimit(r, w, p, natural)
	if u.account.wckey != "" && chance(r, 0.7) {
		j.wckey = u.account.wckey
	}
	if p.name == "cpu" && j.limit > 3*day && j.limitText != p.defaultTimeText {
		j.qos = "long"
	}
	if chance(r, 0.08) {
		if w.class == cTrain || w.class == cInfer {
			j.comment = pick(r, aiComments)
		} else {
			j.comment = pick(r, comments)
		}
	}
	j.cancelUID = u.uid
	if chance(r, 0.1) {
		j.cancelUID = 0
	}
	whole := true
	for _, g := range j.groups {
		whole = whole && g.whole(p)
	}
	if w.array != nil {
		n, throttle := w.array(r)
		j.throttle = throttle
		for k := 0; k < n; k++ {
			nat := max(natural*int64(70+r.IntN(61))/100, 30)
			pl := plan{dur: nat, natural: nat, out: oCompleted}
			if chance(r, 0.03) {
				pl.out, pl.dur, pl.exit = oFailed, max(nat*int64(1+r.IntN(40))/100, 5), pick(r, failExits)
			}
			j.plans = append(j.plans, finishPlan(r, pl, j.limit))
		}
		// Sweeps are often chained after a setup job; a few submitted
		// in the last days still wait for it at the dump.
		if j.submit > WindowEnd.Unix()-3*day && chance(r, 0.4) {
			j.held = true
		}
		return j
	}
	j.plans = []plan{drawPlan(r, w, p, natural, j.limit, whole)}
	j.failNode, j.downFor = r.Float64(), logU(r, 2*hour, 30*hour)
	if whole && len(j.groups) == 1 && !w.serving && chance(r, 0.006) {
		j.requeueAfter = max(natural*int64(5+r.IntN(55))/100, 60)
		j.requeueDelay = int64(60 + r.IntN(240))
	}
	if chance(r, 0.03) {
		j.cancelAt = j.submit + logU(r, 2*minute, 36*hour)
	}
	// A few jobs submitted in the last days wait on a dependency that
	// will never be satisfied (the job they wait for failed).
	if j.submit > WindowEnd.Unix()-4*day && chance(r, 0.012) {
		j.held = true
	}
	return j
}

var failExits = []string{"1:0", "1:0", "1:0", "2:0", "127:0", "137:0", "139:0", "255:0"}

// chooseLimit picks the time limit the user asks for.
func chooseLimit(r *rand.Rand, w *workload, p *partition, natural int64) (int64, string) {
	u := r.Float64()
	if p.maxTime == 0 && u < w.unlimitedP {
		return 0, "UNLIMITED"
	}
	if u < w.unlimitedP+w.noTimeP {
		return p.maxTime, p.defaultTimeText
	}
	var want int64
	switch {
	case w.serving:
		want = pick(r, []int64{day, 2 * day, 3 * day, 3 * day, 5 * day, 7 * day, 7 * day})
	case chance(r, 0.06):
		// An optimistic user: the limit is shorter than the work.
		want = natural * int64(40+r.IntN(55)) / 100
	default:
		want = natural * int64(110+r.IntN(190)) / 100
	}
	limit := niceLimits[len(niceLimits)-1]
	for _, l := range niceLimits {
		if l >= want {
			limit = l
			break
		}
	}
	if p.maxTime > 0 && limit > p.maxTime {
		limit = p.maxTime
	}
	return limit, fmtDuration(limit)
}

// drawPlan decides how a plain job's run ends.
func drawPlan(r *rand.Rand, w *workload, p *partition, natural, limit int64, whole bool) plan {
	pl := plan{dur: natural, natural: natural, out: oCompleted}
	u := r.Float64()
	frac := func(lo, hi int) int64 { return max(natural*int64(lo+r.IntN(hi-lo+1))/1000, 5) }
	switch {
	case w.serving:
		// A service runs until its time limit kills it (TIMEOUT), unless
		// its user stops it first.
		pl.out = oCancelled
		if limit > 0 {
			if u < 0.75 {
				pl.dur = limit + 1
			} else {
				pl.dur = min(natural, limit*int64(10+r.IntN(85))/100)
			}
		}
	case u < w.failP:
		pl.out, pl.dur, pl.exit = oFailed, frac(1, 400), pick(r, failExits)
	case u < w.failP+0.04:
		pl.out, pl.dur = oCancelled, frac(20, 900)
	case u < w.failP+0.05 && p.accels == 0:
		pl.out, pl.dur, pl.exit = oOOM, frac(10, 600), "0:125"
	case u < w.failP+0.054 && whole:
		pl.out, pl.dur = oNodeFail, frac(50, 950)
	}
	return finishPlan(r, pl, limit)
}

// finishPlan applies the time limit: a run that would outlive it is killed
// a little after it, as Slurm does.
func finishPlan(r *rand.Rand, pl plan, limit int64) plan {
	if limit > 0 && pl.dur > limit {
		pl.out, pl.dur, pl.exit = oTimeout, limit+int64(5+r.IntN(85)), ""
	}
	return pl
}
