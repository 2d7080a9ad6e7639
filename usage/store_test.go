package usage

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/scmon/scmon/accel"
	"github.com/scmon/scmon/capacity"
	"github.com/scmon/scmon/job"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

type rec struct {
	id         string
	start, end float64 // hours after t0; end < 0 = running; start < 0 = never started
	cores      int64
	nodes      int64
	part       string
	accels     []job.Accel
	class      job.Class
}

func (r rec) record() *job.Record {
	out := &job.Record{Cluster: "c1", JobID: r.id, Partition: r.part, Cores: r.cores, Nodes: r.nodes, Accels: r.accels, Account: "acct-" + r.part, User: "u"}
	if r.start >= 0 {
		out.Start = at(r.start)
		out.Submit = out.Start
		if r.end >= 0 {
			out.End = at(r.end)
		}
	}
	return out
}

func load(t *testing.T, recs ...rec) *Store {
	t.Helper()
	s := NewStore(nil)
	for _, r := range recs {
		if err := s.Add(r.record(), job.Decision{Class: r.class, Rules: []string{"test"}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func compute(t *testing.T, s *Store, q Query) *Result {
	t.Helper()
	res, err := s.Compute(q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestWindowOverlap checks the attribution of allocations to a window of
// 09:00-12:00, by hand: each job counts cores x its overlap with the window.
func TestWindowOverlap(t *testing.T) {
	s := load(t,
		rec{id: "before", start: 6, end: 9, cores: 100},    // ends at the window start: 0
		rec{id: "edge", start: 8, end: 10, cores: 4},       // 1 h inside
		rec{id: "inside", start: 9.5, end: 10.5, cores: 2}, // 1 h
		rec{id: "spans", start: 8, end: 13, cores: 1},      // 3 h
		rec{id: "running", start: 11, end: -1, cores: 8},   // 1 h, up to the window end
		rec{id: "after", start: 12, end: 14, cores: 100},   // starts at the window end: 0
		rec{id: "pending", start: -1, end: -1, cores: 100}, // never started: 0
		rec{id: "zero", start: 10, end: 10, cores: 100},    // zero length: 0
	)
	res := compute(t, s, Query{From: at(9), To: at(12)})
	all := res.Allocated.Total()
	want := int64((4*1 + 2*1 + 1*3 + 8*1) * 3600)
	if all.CoreSeconds != want {
		t.Errorf("core-seconds = %d, want %d", all.CoreSeconds, want)
	}
	if all.Jobs != 4 {
		t.Errorf("jobs = %d, want 4 (edge, inside, spans, running)", all.Jobs)
	}
	if st := s.Stats(); st.NeverStarted != 1 || st.Records != 8 {
		t.Errorf("stats = %+v", st)
	}
}

// TestDuplicatesAndRequeues: the same run read twice counts once (the
// later record wins: a running job that then ended), a requeued job's runs
// each count.
func TestDuplicatesAndRequeues(t *testing.T) {
	s := NewStore(nil)
	add := func(r *job.Record) {
		t.Helper()
		if err := s.Add(r, job.Decision{Class: job.ClassOther}); err != nil {
			t.Fatal(err)
		}
	}
	run1 := &job.Record{Cluster: "c1", JobID: "7", Start: at(1), End: at(2), Cores: 10, State: job.StateRequeued}
	run2poll1 := &job.Record{Cluster: "c1", JobID: "7", Start: at(3), Cores: 10, State: job.StateRunning}
	run2poll2 := &job.Record{Cluster: "c1", JobID: "7", Start: at(3), End: at(5), Cores: 10, State: job.StateCompleted}
	add(run1)
	add(run2poll1)
	add(run2poll2)
	add(run2poll2) // an exact duplicate line
	if s.Len() != 2 || s.Stats().Duplicates != 2 {
		t.Fatalf("held %d allocations, %d duplicates; want 2 and 2", s.Len(), s.Stats().Duplicates)
	}
	res := compute(t, s, Query{From: at(0), To: at(10)})
	if got, want := res.Allocated.Total().CoreSeconds, int64(10*(1+2)*3600); got != want {
		t.Errorf("core-seconds = %d, want %d", got, want)
	}
}

func inventory(t *testing.T) *capacity.Inventory {
	t.Helper()
	a100 := accel.Device{Kind: accel.KindGPU, Vendor: "nvidia", Model: "A100"}
	shared := &capacity.NodeGroup{Name: "shared", Cores: 8, Steps: []capacity.Step{{Nodes: 10}, {From: at(5), Nodes: 20}}}
	gpu := &capacity.NodeGroup{Name: "gpu", Cores: 8, Accels: []capacity.Accel{{Device: a100, GRESName: "gpu", GRESType: "a100", Count: 4}}, Steps: []capacity.Step{{Nodes: 5}}}
	c := &capacity.Cluster{Name: "c1", Location: time.UTC, NodeGroups: []*capacity.NodeGroup{shared, gpu},
		Partitions: []*capacity.Partition{
			{Name: "p1", NodeGroups: []*capacity.NodeGroup{shared}, Weights: capacity.Weights{"cpu": 1}},
			{Name: "p2", NodeGroups: []*capacity.NodeGroup{shared, gpu}, Weights: capacity.Weights{"cpu": 1, "gres/gpu": 10}},
		}}
	inv := &capacity.Inventory{Clusters: []*capacity.Cluster{c}}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestCapacityOverlappingPartitions: a node group in two partitions counts
// once in the cluster and once in each partition; a dated change doubles
// the shared group at 05:00.
func TestCapacityOverlappingPartitions(t *testing.T) {
	inv := inventory(t)
	s := load(t,
		rec{id: "a", start: 0, end: 10, cores: 16, nodes: 2, part: "p1", class: job.ClassOther},
		rec{id: "b", start: 4, end: 6, cores: 8, nodes: 1, part: "p2", accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 2}}, class: job.ClassAITraining},
	)
	res := compute(t, s, Query{From: at(0), To: at(10), By: []Key{KeyPartition}, Inventory: inv})
	h := int64(3600)
	// shared: 10 nodes x 5 h + 20 nodes x 5 h = 150 node-hours; gpu: 5 x 10 = 50.
	if got, want := res.Capacity.NodeSeconds, (150+50)*h; got != want {
		t.Errorf("cluster node-seconds = %d, want %d", got, want)
	}
	if got, want := res.Capacity.CoreSeconds, (150+50)*8*h; got != want {
		t.Errorf("cluster core-seconds = %d, want %d", got, want)
	}
	if got, want := res.Capacity.AccelSeconds, 50*4*h; got != want {
		t.Errorf("cluster accelerator-seconds = %d, want %d", got, want)
	}
	// Billing: shared billed with p1's weights (cpu=1), gpu with p2's (cpu=1, gpu=10).
	if got, want := res.Capacity.BillingSeconds, float64((150*8+50*8+50*4*10)*h); got != want {
		t.Errorf("cluster billing-seconds = %v, want %v", got, want)
	}
	if len(res.Groups) != 2 {
		t.Fatalf("groups = %d", len(res.Groups))
	}
	p1, p2 := res.Groups[0], res.Groups[1]
	if p1.Values[0] != "p1" || p1.Capacity.CoreSeconds != 150*8*h {
		t.Errorf("p1 %v capacity %d", p1.Values, p1.Capacity.CoreSeconds)
	}
	if p2.Values[0] != "p2" || p2.Capacity.CoreSeconds != (150+50)*8*h {
		t.Errorf("p2 %v capacity %d", p2.Values, p2.Capacity.CoreSeconds)
	}
	// Job b: 8 cores + 2 GPUs x 10 for 2 h = 28 billing units x 2 h.
	if got, want := p2.Allocated.Total().BillingSeconds, float64(28*2*h); got != want {
		t.Errorf("p2 billing = %v, want %v", got, want)
	}
	if got := p2.Allocated[job.ClassAITraining].AccelSeconds; got != 2*2*h {
		t.Errorf("p2 AI accelerator-seconds = %d", got)
	}
}

// TestSeriesAcrossDST: daily buckets in New York around the autumn change
// (2026-11-01 is 25 hours long there) tile the window exactly.
func TestSeriesAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	from := time.Date(2026, 10, 31, 0, 0, 0, 0, ny)
	to := time.Date(2026, 11, 3, 0, 0, 0, 0, ny)
	g := &capacity.NodeGroup{Name: "g", Cores: 1, Steps: []capacity.Step{{Nodes: 1}}}
	inv := &capacity.Inventory{Clusters: []*capacity.Cluster{{Name: "c1", Location: ny, NodeGroups: []*capacity.NodeGroup{g}}}}
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	s := NewStore(nil)
	if err := s.Add(&job.Record{Cluster: "c1", JobID: "1", Start: from, End: to, Cores: 1}, job.Decision{}); err != nil {
		t.Fatal(err)
	}
	res := compute(t, s, Query{From: from, To: to, Every: Day, Location: ny, Inventory: inv})
	wantHours := []int64{24, 25, 24}
	if len(res.Series) != 3 {
		t.Fatalf("%d buckets", len(res.Series))
	}
	var sum int64
	for i, b := range res.Series {
		if got := b.Capacity.CoreSeconds / 3600; got != wantHours[i] {
			t.Errorf("bucket %s capacity = %d h, want %d", b.From.In(ny).Format("01-02"), got, wantHours[i])
		}
		if got := b.Allocated.Total().CoreSeconds; got != b.Capacity.CoreSeconds {
			t.Errorf("bucket %d allocated %d != capacity %d", i, got, b.Capacity.CoreSeconds)
		}
		sum += b.Allocated.Total().CoreSeconds
	}
	if sum != res.Allocated.Total().CoreSeconds || sum != 73*3600 {
		t.Errorf("buckets sum to %d, total %d, want %d", sum, res.Allocated.Total().CoreSeconds, 73*3600)
	}
}

func TestBucketsMonthAndWeek(t *testing.T) {
	from := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	b, err := Buckets(from, to, Month, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 3 || !b[0].From.Equal(from) || !b[1].From.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !b[2].To.Equal(to) {
		t.Errorf("month buckets %v", b)
	}
	w, _ := Buckets(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC), Week, time.UTC)
	// 2026-03-04 is a Wednesday: weeks start on Mondays 03-09 and 03-16.
	if len(w) != 3 || !w[1].From.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) || !w[2].From.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("week buckets %v", w)
	}
}

// TestGroupByDevice: a job holding two accelerator models puts each
// model's seconds in its own group and its cores in the first one; an
// unknown GRES is kept apart from accelerators.
func TestGroupByDevice(t *testing.T) {
	s := load(t,
		rec{id: "mixed", start: 0, end: 1, cores: 4, nodes: 1, part: "p", accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 2}, {Name: "npu", Type: "910b", Count: 8}}},
		rec{id: "fpga", start: 0, end: 1, cores: 1, nodes: 1, part: "p", accels: []job.Accel{{Name: "fpga", Count: 1}}},
		rec{id: "mps", start: 0, end: 1, cores: 1, nodes: 1, part: "p", accels: []job.Accel{{Name: "mps", Count: 100}}},
	)
	res := compute(t, s, Query{From: at(0), To: at(1), By: []Key{KeyKind, KeyModel}})
	got := map[string][2]int64{}
	for _, g := range res.Groups {
		tot := g.Allocated.Total()
		got[g.Values[0]+"/"+g.Values[1]] = [2]int64{tot.CoreSeconds, tot.AccelSeconds}
	}
	want := map[string][2]int64{
		"gpu/A100":          {4 * 3600, 2 * 3600},
		"npu/Ascend 910B":   {0, 8 * 3600},
		"unmapped/unmapped": {1 * 3600, 0},
		"none/none":         {1 * 3600, 0},
	}
	if len(got) != len(want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("group %s = %v, want %v", k, got[k], v)
		}
	}
	if tot := res.Allocated.Total(); tot.AccelSeconds != 10*3600 || tot.CoreSeconds != 6*3600 {
		t.Errorf("totals: %d accelerator-seconds, %d core-seconds", tot.AccelSeconds, tot.CoreSeconds)
	}
	if s.Stats().IgnoredGRES != 1 {
		t.Errorf("ignored GRES = %d", s.Stats().IgnoredGRES)
	}
}

func TestSpan(t *testing.T) {
	s := load(t, rec{id: "a", start: 2, end: 5, cores: 1}, rec{id: "b", start: 1, end: -1, cores: 1}, rec{id: "c", start: 3, end: 7, cores: 1})
	from, to, ok := s.Span(false)
	if !ok || !from.Equal(at(1)) || !to.Equal(at(7)) {
		t.Errorf("span %v %v %v", from, to, ok)
	}
	if _, _, ok := NewStore(nil).Span(false); ok {
		t.Error("an empty store has a span")
	}
}

func TestAddRejects(t *testing.T) {
	s := NewStore(nil)
	if err := s.Add(&job.Record{JobID: "x", Start: at(0), Cores: math.MaxUint32 + 1}, job.Decision{}); err == nil {
		t.Error("cores beyond 32 bits accepted")
	}
	s.Seal()
	if err := s.Add(&job.Record{JobID: "y"}, job.Decision{}); err == nil {
		t.Error("a sealed store accepted a record")
	}
}

// TestTooManyDevicesRefusedBeforeSharedState: a record with 70,000
// distinct GRES is refused without touching the device table, so later
// accelerator records are still counted.
func TestTooManyDevicesRefusedBeforeSharedState(t *testing.T) {
	s := load(t, rec{id: "gpu1", start: 1, end: 2, cores: 1, nodes: 1, accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 1}}})
	devsBefore := len(s.Devices())
	hostile := rec{id: "hostile", start: 1, end: 2, cores: 1, nodes: 1}.record()
	for i := range 70_000 {
		hostile.Accels = append(hostile.Accels, job.Accel{Name: "gpu", Type: fmt.Sprintf("x%d", i), Count: 1})
	}
	err := s.Add(hostile, job.Decision{})
	if !errors.Is(err, ErrTooManyDevices) {
		t.Fatalf("Add = %v; want ErrTooManyDevices", err)
	}
	if !errors.Is(CheckRecord(hostile), ErrTooManyDevices) {
		t.Fatal("CheckRecord accepts the record")
	}
	if len(s.Devices()) != devsBefore || s.Len() != 1 {
		t.Fatalf("the refused record changed the store: %d devices (was %d), %d jobs", len(s.Devices()), devsBefore, s.Len())
	}
	// The device table itself: fill it to one short of full with records
	// of at most MaxRecordDevices; a record needing two more is refused
	// whole, one needing one more is taken.
	for i := 0; len(s.Devices()) < multiDevice-2; i++ {
		r := rec{id: fmt.Sprint("fill", i), start: 1, end: 2, cores: 1}.record()
		for k := 0; k < MaxRecordDevices && len(s.Devices())+k < multiDevice-2; k++ {
			r.Accels = append(r.Accels, job.Accel{Name: "gres", Type: fmt.Sprint(i, "-", k), Count: 1})
		}
		if err := s.Add(r, job.Decision{}); err != nil {
			t.Fatal(err)
		}
	}
	two := rec{id: "two", start: 1, end: 2, cores: 1, accels: []job.Accel{{Name: "new", Type: "a", Count: 1}, {Name: "new", Type: "b", Count: 1}}}.record()
	jobs := s.Len()
	if err := s.Add(two, job.Decision{}); err == nil || s.Len() != jobs || len(s.Devices()) != multiDevice-2 {
		t.Fatalf("Add = %v with %d devices; want a refusal that adds nothing", err, len(s.Devices()))
	}
	one := rec{id: "one", start: 1, end: 2, cores: 1, accels: []job.Accel{{Name: "gpu", Type: "a100", Count: 2}, {Name: "new", Type: "a", Count: 1}}}.record()
	if err := s.Add(one, job.Decision{}); err != nil {
		t.Fatalf("a record that fits is refused: %v", err)
	}
}
