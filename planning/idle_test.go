package planning

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/seeds"
	"github.com/scmon/scmon/usage"
)

var (
	devA100 = accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "A100"}
	devH100 = accel.Device{Kind: "gpu", Vendor: "nvidia", Model: "H100"}
	dev910B = accel.Device{Kind: "npu", Vendor: "huawei", Model: "Ascend 910B"}
)

// testCenter is a small center: a CPU partition, two GPU partitions that
// share an A100 node group (one of them also has H100 nodes), an NPU
// partition whose node count grows, and nodes that no partition lists.
func testCenter(t0 time.Time) *capacity.Inventory {
	cpu := &capacity.NodeGroup{Name: "cpu", Cores: 32, Steps: []capacity.Step{{Nodes: 4}}}
	a100 := &capacity.NodeGroup{Name: "a100", Cores: 16, Accels: []capacity.Accel{{Device: devA100, GRESName: "gpu", GRESType: "a100", Count: 4}}, Steps: []capacity.Step{{Nodes: 2}}}
	h100 := &capacity.NodeGroup{Name: "h100", Cores: 16, Accels: []capacity.Accel{{Device: devH100, GRESName: "gpu", GRESType: "h100", Count: 8}}, Steps: []capacity.Step{{Nodes: 1}}}
	npu := &capacity.NodeGroup{Name: "npu", Cores: 48, Accels: []capacity.Accel{{Device: dev910B, GRESName: "npu", GRESType: "910b", Count: 8}},
		Steps: []capacity.Step{{Nodes: 1}, {From: t0.Add(20 * time.Hour), Nodes: 3}}}
	spare := &capacity.NodeGroup{Name: "spare", Cores: 8, Steps: []capacity.Step{{Nodes: 1}}}
	inv := &capacity.Inventory{Source: "test", Clusters: []*capacity.Cluster{{
		Name: "c", NodeGroups: []*capacity.NodeGroup{cpu, a100, h100, npu, spare},
		Partitions: []*capacity.Partition{
			{Name: "cpu", NodeGroups: []*capacity.NodeGroup{cpu}},
			{Name: "gpu", NodeGroups: []*capacity.NodeGroup{a100, h100}},
			{Name: "gpu-short", NodeGroups: []*capacity.NodeGroup{a100}},
			{Name: "npu", NodeGroups: []*capacity.NodeGroup{npu}},
		},
	}}}
	if err := inv.Validate(); err != nil {
		panic(err)
	}
	return inv
}

// genJobs writes n jobs over two days on minute boundaries: some wait,
// some are still pending, some were cancelled while waiting, some run past
// the window, some ask for an untyped GPU, some name an unlisted partition.
func genJobs(seed uint64, t0 time.Time, n int) []Job {
	rng := rand.New(rand.NewPCG(seed, 7))
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	parts := []string{"cpu", "gpu", "gpu-short", "npu", "debug"}
	var jobs []Job
	for range n {
		j := Job{Cluster: "c", Partition: parts[rng.IntN(len(parts))], User: fmt.Sprint("u", rng.IntN(5)), Name: fmt.Sprint("j", rng.IntN(9))}
		sub := rng.IntN(36*60) - 120 // the last 12 hours see no new job
		j.Submit = min(sub)
		if rng.IntN(4) > 0 {
			j.Eligible = min(sub + rng.IntN(30))
		}
		j.Cores = int64(1 + rng.IntN(16))
		switch j.Partition {
		case "gpu":
			d := devA100
			switch rng.IntN(3) {
			case 1:
				d = devH100
			}
			j.Devices = []DeviceCount{{Device: d, Count: int64(1 + rng.IntN(6))}}
		case "gpu-short":
			j.Devices = []DeviceCount{{Device: devA100, Count: int64(1 + rng.IntN(4))}}
		case "npu":
			j.Devices = []DeviceCount{{Device: dev910B, Count: int64(1 + rng.IntN(8))}}
		}
		switch k := rng.IntN(10); {
		case k == 0 && seed%2 == 0:
			j.State = job.StatePending
			if j.Partition == "gpu" && rng.IntN(2) == 0 {
				// A request without a model on a partition of two: the
				// allocation, once started, would name one.
				j.Devices[0].Device = accel.Device{Kind: "gpu"}
			}
		case k == 1:
			j.State = job.StateCancelled // never started
		default:
			start := sub + rng.IntN(600)
			j.Start = min(start)
			if rng.IntN(8) > 0 {
				j.End = min(start + rng.IntN(600))
				j.State = job.StateCompleted
			} else {
				j.State = job.StateRunning
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// bruteIdle computes the split minute by minute with plain loops over
// every job and node group: the independent computation the sweep is
// checked against. Pool membership is written out by hand for testCenter.
func bruteIdle(inv *capacity.Inventory, jobs []Job, outages []Outage, from, to time.Time) map[string]*Split {
	poolOf := map[string]string{"cpu": "cpu", "gpu": "gpu", "gpu-short": "gpu", "npu": "npu", "debug": "debug"}
	poolGroups := map[string][]string{"cpu": {"cpu"}, "gpu": {"a100", "h100"}, "npu": {"npu"}, "spare": {"spare"}, "debug": nil}
	groups := map[string]*capacity.NodeGroup{}
	for _, g := range inv.Clusters[0].NodeGroups {
		groups[g.Name] = g
	}
	type res struct {
		pool string
		dev  accel.Device // zero: cores
	}
	amount := func(j *Job, r res) int64 {
		if r.dev == (accel.Device{}) {
			return j.Cores
		}
		var n int64
		for _, d := range j.Devices {
			if d.Device == r.dev {
				n += d.Count
			}
		}
		return n
	}
	asks := func(j *Job, r res) int64 {
		if poolOf[j.Partition] != r.pool {
			return 0
		}
		if r.dev == (accel.Device{}) {
			return j.Cores
		}
		var n int64
		for _, d := range j.Devices {
			if d.Device == r.dev || (d.Device.Model == "" && d.Device.Kind == r.dev.Kind) {
				n += d.Count
			}
		}
		return n
	}
	var all []res
	for pool, gs := range poolGroups {
		all = append(all, res{pool: pool})
		for _, g := range gs {
			for _, a := range groups[g].Accels {
				all = append(all, res{pool: pool, dev: a.Device})
			}
		}
	}
	out := map[string]*Split{}
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		waiting := func(j *Job) bool {
			w0 := j.Eligible
			if w0.IsZero() {
				w0 = j.Submit
			}
			if t.Before(w0) {
				return false
			}
			if !j.Start.IsZero() {
				return t.Before(j.Start)
			}
			return j.State == job.StatePending
		}
		for _, r := range all {
			var c, a, wait, others int64
			for _, g := range poolGroups[r.pool] {
				n := groups[g].NodesAt(t)
				if r.dev == (accel.Device{}) {
					c += n * groups[g].Cores
				}
				for _, acc := range groups[g].Accels {
					if acc.Device == r.dev {
						c += n * acc.Count
					}
				}
			}
			for i := range jobs {
				j := &jobs[i]
				if poolOf[j.Partition] == r.pool && !j.Start.IsZero() && !t.Before(j.Start) && (j.End.IsZero() || t.Before(j.End)) {
					a += amount(j, r)
				}
				if waiting(j) {
					if n := asks(j, r); n > 0 {
						wait += n
					} else {
						others++
					}
				}
			}
			var st [3]int64
			for _, o := range outages {
				if poolOf[o.Partition] != r.pool || t.Before(o.From) || !t.Before(o.To) {
					continue
				}
				v := o.Cores
				if r.dev != (accel.Device{}) {
					v = 0
					for _, d := range o.Devices {
						if d.Device == r.dev {
							v += d.Count
						}
					}
				}
				st[slices.Index(Reasons, o.State)] += v
			}
			var s Split
			s.CapacitySeconds, s.AllocatedSeconds, s.DemandSeconds = c*60, a*60, wait*60
			idle := c - a
			if idle < 0 {
				s.OversubscribedSeconds = -idle * 60
				idle = 0
			}
			part := func(v int64) int64 {
				if v > idle {
					v = idle
				}
				idle -= v
				return v * 60
			}
			s.Down, s.Drained, s.Planned = part(st[0]), part(st[1]), part(st[2])
			s.Blocked = part(wait)
			if others > 0 {
				s.Mismatch = idle * 60
			} else {
				s.NoDemand = idle * 60
			}
			for _, k := range []string{"pool " + r.pool + " " + ModelName(r.dev), "all " + ModelName(r.dev)} {
				if r.dev == (accel.Device{}) {
					k = k[:len(k)-len(ModelName(r.dev))] + "cores"
				}
				if out[k] == nil {
					out[k] = &Split{}
				}
				out[k].add(&s)
			}
		}
	}
	return out
}

func flatten(s *IdleSplit) map[string]*Split {
	out := map[string]*Split{"all cores": &s.Cores}
	for i := range s.Devices {
		out["all "+s.Devices[i].Model] = &s.Devices[i].Split
	}
	names := map[string]string{"cpu": "cpu", "gpu+gpu-short": "gpu", "npu": "npu", "(spare)": "spare", "(unlisted partitions)": "debug"}
	for i := range s.Pools {
		p := &s.Pools[i]
		n := names[p.Name()]
		out["pool "+n+" cores"] = &p.Cores
		for k := range p.Devices {
			out["pool "+n+" "+p.Devices[k].Model] = &p.Devices[k].Split
		}
	}
	return out
}

func TestIdleGeneratedCenter(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	inv := testCenter(t0)
	for seed := range uint64(2) {
		jobs := genJobs(seed, t0, 150)
		var outages []Outage
		if seed%2 == 1 {
			outages = []Outage{
				{Cluster: "c", Partition: "cpu", State: ReasonDown, From: t0.Add(3 * time.Hour), To: t0.Add(9 * time.Hour), Cores: 64},
				{Cluster: "c", Partition: "gpu-short", State: ReasonDrained, From: t0.Add(5 * time.Hour), To: t0.Add(30 * time.Hour), Cores: 16, Devices: []DeviceCount{{Device: devA100, Count: 4}}},
				{Cluster: "c", Partition: "npu", State: ReasonPlanned, From: t0.Add(10 * time.Hour), To: t0.Add(12 * time.Hour), Cores: 48, Devices: []DeviceCount{{Device: dev910B, Count: 8}}},
			}
		}
		from, to := t0, t0.Add(48*time.Hour)
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			got, err := Idle(jobs, IdleQuery{From: from, To: to, Inventory: inv, Outages: outages,
				Buckets: []Span{{from, from.Add(24 * time.Hour)}, {from.Add(24 * time.Hour), to}}})
			if err != nil {
				t.Fatal(err)
			}
			want := bruteIdle(inv, jobs, outages, from, to)
			flat := flatten(got)
			for k, w := range want {
				g := flat[k]
				if g == nil {
					if *w != (Split{}) {
						t.Errorf("%s: missing, want %+v", k, *w)
					}
					continue
				}
				if *g != *w {
					t.Errorf("%s:\n got %+v\nwant %+v", k, *g, *w)
				}
			}
			for k := range flat {
				if want[k] == nil {
					t.Errorf("%s: not expected", k)
				}
			}
			// The parts add up.
			for k, s := range flat {
				if s.Idle() != s.CapacitySeconds-s.AllocatedSeconds+s.OversubscribedSeconds {
					t.Errorf("%s: idle %d != capacity %d - allocated %d + oversubscribed %d", k, s.Idle(), s.CapacitySeconds, s.AllocatedSeconds, s.OversubscribedSeconds)
				}
			}
			var sum Split
			for i := range got.Series {
				sum.add(&got.Series[i].Cores)
			}
			if sum != got.Cores {
				t.Errorf("series cores %+v, window %+v", sum, got.Cores)
			}
			t.Logf("cores %+v\n accelerators %+v", got.Cores, got.Accelerators)
			if got.Cores.Blocked == 0 || got.Cores.Mismatch == 0 || got.Accelerators.Blocked == 0 {
				t.Errorf("the generated center should show blocked and mismatch time: %+v", got.Cores)
			}
			if len(outages) > 0 && got.Cores.NoDemand == 0 {
				t.Errorf("with nothing pending at the end, some idle time has no demand: %+v", got.Cores)
			}
			if len(outages) > 0 && (got.Cores.Down == 0 || got.Cores.Drained == 0 || got.Cores.Planned == 0) {
				t.Errorf("outages should show: %+v", got.Cores)
			}
		})
	}
}

// TestIdleSample checks the split of the built-in sample against the
// usage engine (idle = capacity - allocated, exactly, per resource and
// model) and, at instants spread over the month, every reason against
// the plain computation.
func TestIdleSample(t *testing.T) {
	sc := loadSample(t)
	from, to := seeds.Window()
	got, err := Idle(sc.jobs, IdleQuery{From: from, To: to, Inventory: sc.inv})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.store.Compute(usage.Query{From: from, To: to, Inventory: sc.inv})
	if err != nil {
		t.Fatal(err)
	}
	total := res.Allocated.Total()
	if got.Cores.CapacitySeconds != res.Capacity.CoreSeconds || got.Cores.AllocatedSeconds != total.CoreSeconds {
		t.Errorf("cores: capacity %d allocated %d, engine %d %d", got.Cores.CapacitySeconds, got.Cores.AllocatedSeconds, res.Capacity.CoreSeconds, total.CoreSeconds)
	}
	if got.Cores.OversubscribedSeconds != 0 || got.Cores.Idle() != res.Capacity.CoreSeconds-total.CoreSeconds {
		t.Errorf("cores: idle %d, capacity - allocated %d", got.Cores.Idle(), res.Capacity.CoreSeconds-total.CoreSeconds)
	}
	if got.Accelerators.Idle() != res.Capacity.AccelSeconds-total.AccelSeconds || got.Accelerators.OversubscribedSeconds != 0 {
		t.Errorf("accelerators: idle %d, capacity - allocated %d", got.Accelerators.Idle(), res.Capacity.AccelSeconds-total.AccelSeconds)
	}
	engineModel := map[string]int64{}
	for i, d := range res.Devices {
		if d.Known {
			engineModel[ModelName(d.Device)] += total.Device[i]
		}
	}
	for _, d := range got.Devices {
		if d.AllocatedSeconds != engineModel[d.Model] {
			t.Errorf("%s: allocated %d, engine %d", d.Model, d.AllocatedSeconds, engineModel[d.Model])
		}
	}
	if got.Cores.Blocked == 0 || got.Cores.Mismatch == 0 || got.Cores.NoDemand == 0 {
		t.Errorf("the sample should show every demand reason: %+v", got.Cores)
	}

	// One-second windows against the plain computation.
	rng := rand.New(rand.NewPCG(1, 2))
	parts := map[string]bool{"cpu": true, "gpu": true, "npu": true, "dcu": true}
	for range 30 {
		at := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)/time.Second))) * time.Second)
		one, err := Idle(sc.jobs, IdleQuery{From: at, To: at.Add(time.Second), Inventory: sc.inv})
		if err != nil {
			t.Fatal(err)
		}
		// Plain: per partition (one node group each in the sample).
		var wantCores Split
		for _, p := range sc.inv.Clusters[0].Partitions {
			var c, a, wait, others int64
			for _, g := range p.NodeGroups {
				c += g.NodesAt(at) * g.Cores
			}
			for i := range sc.jobs {
				j := &sc.jobs[i]
				if !parts[j.Partition] {
					t.Fatalf("job of partition %q", j.Partition)
				}
				if j.Partition == p.Name && !j.Start.IsZero() && !at.Before(j.Start) && (j.End.IsZero() || at.Before(j.End)) {
					a += j.Cores
				}
				w0 := j.Eligible
				if w0.IsZero() {
					w0 = j.Submit
				}
				isWaiting := !at.Before(w0) && ((!j.Start.IsZero() && at.Before(j.Start)) || (j.Start.IsZero() && j.State == job.StatePending))
				if isWaiting && j.Partition == p.Name && j.Cores > 0 {
					wait += j.Cores
				} else if isWaiting {
					others++
				}
			}
			s := Split{CapacitySeconds: c, AllocatedSeconds: a, DemandSeconds: wait}
			idle := max(c-a, 0)
			s.Blocked = min(wait, idle)
			if idle-s.Blocked > 0 && others > 0 {
				s.Mismatch = idle - s.Blocked
			} else {
				s.NoDemand = idle - s.Blocked
			}
			wantCores.add(&s)
		}
		if one.Cores != wantCores {
			t.Errorf("%s: cores\n got %+v\nwant %+v", at.UTC().Format(time.RFC3339), one.Cores, wantCores)
		}
	}
}

func TestIdleErrors(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	inv := testCenter(t0)
	for name, q := range map[string]IdleQuery{
		"empty window": {From: t0, To: t0, Inventory: inv},
		"no capacity":  {From: t0, To: t0.Add(time.Hour)},
		"bad bucket":   {From: t0, To: t0.Add(time.Hour), Inventory: inv, Buckets: []Span{{t0, t0.Add(2 * time.Hour)}}},
		"bad outage":   {From: t0, To: t0.Add(time.Hour), Inventory: inv, Outages: []Outage{{Cluster: "c", Partition: "cpu", State: "idle", From: t0, To: t0.Add(time.Minute)}}},
	} {
		if _, err := Idle(nil, q); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
