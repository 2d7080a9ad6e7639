package planning

import (
	"testing"
	"time"
)

// FuzzIdle checks the split's invariants on generated centers: every
// reason is non-negative, the reasons add up to capacity - allocated +
// oversubscribed for every resource, pool and period, and the periods add
// up to the window.
func FuzzIdle(f *testing.F) {
	f.Add(uint64(1), uint8(40), uint16(0), uint16(2880))
	f.Add(uint64(7), uint8(200), uint16(600), uint16(60))
	f.Add(uint64(3), uint8(0), uint16(0), uint16(1))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	inv := testCenter(t0)
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, off, length uint16) {
		if length == 0 {
			return
		}
		jobs := genJobs(seed, t0, int(n))
		from := t0.Add(time.Duration(off) * time.Minute)
		to := from.Add(time.Duration(length) * time.Minute)
		mid := from.Add(to.Sub(from) / 2)
		q := IdleQuery{From: from, To: to, Inventory: inv, Buckets: []Span{{from, mid}, {mid, to}},
			Outages: []Outage{{Cluster: "c", Partition: "gpu", State: ReasonDown, From: t0.Add(time.Hour), To: t0.Add(5 * time.Hour), Cores: 16, Devices: []DeviceCount{{Device: devA100, Count: 4}}}}}
		if mid.Equal(from) {
			q.Buckets = nil
		}
		s, err := Idle(jobs, q)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, sp *Split) {
			for _, r := range Reasons {
				if sp.Reason(r) < 0 {
					t.Fatalf("%s: %s is negative: %+v", what, r, sp)
				}
			}
			if sp.Idle() != sp.CapacitySeconds-sp.AllocatedSeconds+sp.OversubscribedSeconds || sp.OversubscribedSeconds < 0 || sp.DemandSeconds < 0 {
				t.Fatalf("%s: does not add up: %+v", what, sp)
			}
		}
		check("cores", &s.Cores)
		check("accelerators", &s.Accelerators)
		for _, p := range s.Pools {
			check("pool "+p.Name(), &p.Cores)
			for _, d := range p.Devices {
				check("pool "+p.Name()+" "+d.Model, &d.Split)
			}
		}
		if len(s.Series) == 2 {
			sum := s.Series[0].Cores
			sum.add(&s.Series[1].Cores)
			if sum != s.Cores {
				t.Fatalf("periods %+v, window %+v", sum, s.Cores)
			}
		}
	})
}

func BenchmarkIdleSample(b *testing.B) {
	sc := loadSample(b)
	from, to := sampleWindow()
	b.ReportAllocs()
	b.ReportMetric(float64(len(sc.jobs)), "jobs")
	for b.Loop() {
		if _, err := Idle(sc.jobs, IdleQuery{From: from, To: to, Inventory: sc.inv}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdle100k splits a generated center of 100,000 jobs: the cost
// that scales with the history (scmon serve splits its whole history at
// each publish).
func BenchmarkIdle100k(b *testing.B) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	inv := testCenter(t0)
	jobs := genJobs(1, t0, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Idle(jobs, IdleQuery{From: t0, To: t0.Add(48 * time.Hour), Inventory: inv}); err != nil {
			b.Fatal(err)
		}
	}
}
