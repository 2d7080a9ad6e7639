package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// The calibration targets. The sample center reports a utilization of
// 65.9% of its billing capacity; each partition gets a plausible share of
// it, and each workload class a plausible share of each partition, so that
// AI (training and inference) ends near 17.5% of what was allocated.
const targetUtilization = 0.6590

// partTarget is each partition's utilization; the DCU partition takes what
// is left of the overall target.
var partTarget = [4]float64{pCPU: 0.705, pGPU: 0.78, pNPU: 0.50}

// classMix is each class's share of a partition's allocation, in the
// order ai_training, ai_inference, other, unknown.
var classMix = [4][nClasses]float64{
	pCPU: {0, 0, 0.99, 0.01},
	pGPU: {0.19, 0.08, 0.71, 0.02},
	pNPU: {0.60, 0.20, 0.12, 0.08},
	pDCU: {0.035, 0.005, 0.95, 0.01},
}

// cellDef is one stream of jobs: one partition and one class.
type cellDef struct {
	workloads []*workload
	weights   []float64
	// users and their weights for each workload (same index).
	users   [][]*user
	uweight [][]float64
	// target is the cell's billing inside the window, in
	// quarter-unit-seconds.
	target int64
}

func (c *cellDef) pickUser(r *rand.Rand, w *workload) *user {
	i := slices.Index(c.workloads, w)
	return pickW(r, c.users[i], c.uweight[i])
}

// model is the whole generated center: cells, their jobs, the users.
type model struct {
	users []*user
	cells []*cellDef
	jobs  [][]*job // per cell
	// capacity is the billing capacity of the window per partition, in
	// quarter-unit-seconds.
	capacity [4]int64
	target   int64
}

func allWorkloads() [][]*workload {
	return [][]*workload{pCPU: cpuWorkloads, pGPU: gpuWorkloads, pNPU: npuWorkloads, pDCU: dcuWorkloads}
}

// newModel builds the users and the cells with their targets.
func newModel() (*model, error) {
	m := &model{users: makeUsers(rand.New(rand.NewPCG(seed, 1)))}
	from, to := WindowStart.Unix(), WindowEnd.Unix()
	var total int64
	for pi, p := range partitions {
		m.capacity[pi] = p.capacity(from, to)
		total += m.capacity[pi]
	}
	m.target = int64(math.Round(targetUtilization * float64(total)))
	var partT [4]int64
	rest := m.target
	for pi := range partitions {
		if pi == pDCU {
			partT[pi] = rest
			break
		}
		partT[pi] = int64(partTarget[pi] * float64(m.capacity[pi]))
		rest -= partT[pi]
	}
	byPart := allWorkloads()
	for pi := range partitions {
		for k := range nClasses {
			c := &cellDef{target: int64(classMix[pi][k] * float64(partT[pi]))}
			for _, w := range byPart[pi] {
				if w.class != k {
					continue
				}
				var us []*user
				var uw []float64
				for _, u := range m.users {
					if slices.Contains(w.fields, u.account.field) {
						us, uw = append(us, u), append(uw, u.activity)
					}
				}
				if len(us) == 0 {
					return nil, fmt.Errorf("workload %s: no user in fields %v", w.id, w.fields)
				}
				c.workloads, c.weights = append(c.workloads, w), append(c.weights, w.weight)
				c.users, c.uweight = append(c.users, us), append(c.uweight, uw)
			}
			if c.target > 0 && len(c.workloads) == 0 {
				return nil, fmt.Errorf("partition %s: no workload of class %s", partitions[pi].name, classNames[k])
			}
			m.cells = append(m.cells, c)
		}
	}
	m.jobs = make([][]*job, len(m.cells))
	return m, nil
}

// grow makes cell c hold exactly n jobs (the first n of its stream).
func (m *model) grow(c, n int) {
	js := m.jobs[c]
	for i := len(js); i < n; i++ {
		js = append(js, makeJob(c, i, m.cells[c]))
	}
	m.jobs[c] = js[:n]
}

// simulateAll runs the four partitions' schedulers (independent of each
// other, so in parallel) and computes every run's billing in the window.
func (m *model) simulateAll() {
	var wg sync.WaitGroup
	for pi, p := range partitions {
		var jobs []*job
		for k := range nClasses {
			jobs = append(jobs, m.jobs[pi*int(nClasses)+int(k)]...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			simulate(p, jobs)
		}()
	}
	wg.Wait()
	from, to := WindowStart.Unix(), WindowEnd.Unix()
	for _, js := range m.jobs {
		for _, j := range js {
			for _, r := range j.runs {
				r.contrib = contribution(r, from, to)
			}
		}
	}
}

// contribution is the run's billing in [from, to), computed as the
// engine does: billing weight x count x overlap, per record.
func contribution(r *run, from, to int64) int64 {
	if !r.started {
		return 0
	}
	a, b := max(r.start, from), min(r.end, to)
	if b <= a {
		return 0
	}
	_, cores, accels := totals(r.j.groups)
	p := r.j.p
	return (int64(cores)*p.qCore + int64(accels)*p.qAccel) * (b - a)
}

// cellBilling sums the window billing of each cell.
func (m *model) cellBilling() []int64 {
	out := make([]int64, len(m.cells))
	for c, js := range m.jobs {
		for _, j := range js {
			if j.dropped {
				continue
			}
			for _, r := range j.runs {
				out[c] += r.contrib
			}
		}
	}
	return out
}

// Calibration bounds: each cell is simulated with slightly more load than
// its target (between lowSlack and highSlack over it), then whole jobs are
// dropped until the targets are met exactly.
const (
	aimSlack   = 1.02
	lowSlack   = 1.004
	highSlack  = 1.06
	maxRounds  = 24
	relaxAfter = 10
)

// calibrate finds job counts per cell that give slightly more than the
// targets, then drops jobs to meet them. It returns the number of rounds.
func (m *model) calibrate() (int, error) {
	n := make([]int, len(m.cells))
	for c, cell := range m.cells {
		if cell.target == 0 {
			continue
		}
		// A first guess from the mean billing of sample jobs, assuming
		// arrivals spread over the simulated span.
		var sum float64
		const sample = 400
		for i := range sample {
			j := makeJob(c, i, cell)
			_, cores, accels := totals(j.groups)
			rate := float64(int64(cores)*j.p.qCore + int64(accels)*j.p.qAccel)
			for _, pl := range j.plans {
				sum += float64(rate * float64(min(pl.dur, WindowEnd.Unix()-WindowStart.Unix())))
			}
		}
		span := float64(WindowEnd.Unix() - simStart.Unix())
		window := float64(WindowEnd.Unix() - WindowStart.Unix())
		n[c] = max(int(float64(cell.target)*aimSlack/(sum/sample)*span/window), 1)
	}
	for round := 1; ; round++ {
		for c := range m.cells {
			m.grow(c, n[c])
		}
		m.simulateAll()
		got := m.cellBilling()
		done := true
		for c, cell := range m.cells {
			if cell.target == 0 {
				continue
			}
			ratio := float64(got[c]) / float64(cell.target)
			lo, hi := lowSlack, highSlack
			if round > relaxAfter {
				// Cells of a few large jobs jump around their target as
				// jobs are added: accept a wider band, dropping does the rest.
				lo, hi = 1, 2*highSlack-1
			}
			if ratio < lo || ratio > hi {
				done = false
				step := math.Min(math.Max(aimSlack/ratio, 0.6), 1.6)
				next := int(math.Round(float64(n[c]) * step))
				if step < 1 {
					n[c] = max(min(next, n[c]-1), 1)
				} else {
					n[c] = max(next, n[c]+1)
				}
			}
		}
		if done {
			m.drop(got)
			return round, nil
		}
		if round == maxRounds {
			return round, fmt.Errorf("calibration did not converge in %d rounds", round)
		}
	}
}

// drop removes whole jobs, never parts of them, first until each cell is
// at its target, then until the total is. Only plain jobs are dropped
// (not arrays, heterogeneous or requeued jobs), in an order drawn from the
// fixed seed. The schedule stays valid: dropping a job only frees nodes.
func (m *model) drop(got []int64) {
	type cand struct {
		j   *job
		key uint64
		x   int64
	}
	var all []cand
	for _, js := range m.jobs {
		for _, j := range js {
			if j.isArray() || len(j.groups) > 1 || j.requeueAfter > 0 || len(j.runs) == 0 {
				continue
			}
			if x := j.runs[0].contrib; x > 0 {
				all = append(all, cand{j: j, key: mix64(uint64(j.order) ^ seed), x: x})
			}
		}
	}
	slices.SortFunc(all, func(a, b cand) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for _, cd := range all {
		c := cd.j.cell
		if got[c]-cd.x >= m.cells[c].target {
			cd.j.dropped = true
			got[c] -= cd.x
		}
	}
	var total int64
	for _, g := range got {
		total += g
	}
	for _, cd := range all {
		if !cd.j.dropped && total-cd.x >= m.target {
			cd.j.dropped = true
			total -= cd.x
		}
	}
}

// mix64 is SplitMix64's finaliser: a fixed, well-spread order.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
