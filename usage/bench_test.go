package usage

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// synthetic returns n allocations over 30 days from a few thousand users,
// a few hundred accounts and four partitions, a third with accelerators.
func synthetic(n int) []*job.Record { return syntheticOn(n, 0) }

// syntheticOn is synthetic with node lists: each job holds its NNodes
// consecutive nodes of a center of the given size, at random (none: no
// node list).
func syntheticOn(n, nodes int) []*job.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"cpu", "gpu", "npu", "dcu"}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*job.Record, n)
	for i := range out {
		p := rng.IntN(4)
		start := base.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second)
		r := &job.Record{
			Cluster: "c1", JobID: fmt.Sprint(1_000_000 + i), Partition: parts[p],
			Account: fmt.Sprintf("acct%03d", rng.IntN(300)), User: fmt.Sprintf("user%04d", rng.IntN(3000)),
			Submit: start.Add(-time.Minute), Start: start, End: start.Add(time.Duration(60+rng.IntN(48*3600)) * time.Second),
			Cores: int64(1 + rng.IntN(256)), Nodes: int64(1 + rng.IntN(4)),
		}
		if nodes > 0 {
			lo := rng.IntN(nodes - int(r.Nodes) + 1)
			r.NodeList = fmt.Sprintf("cn[%06d-%06d]", lo, lo+int(r.Nodes)-1)
		}
		switch p {
		case 1:
			r.Accels = []job.Accel{{Name: "gpu", Type: "a100", Count: int64(1 + rng.IntN(8))}}
		case 2:
			r.Accels = []job.Accel{{Name: "npu", Type: "910b", Count: int64(1 + rng.IntN(8))}}
		case 3:
			r.Accels = []job.Accel{{Name: "dcu", Type: "k100", Count: 1}}
		}
		out[i] = r
	}
	return out
}

var decisions = []job.Decision{
	{Class: job.ClassAITraining, Rules: []string{"torchrun"}},
	{Class: job.ClassAIInference, Rules: []string{"vllm"}},
	{Class: job.ClassOther, Rules: []string{"vasp"}},
	{Class: job.ClassUnknown},
}

func BenchmarkStoreAdd(b *testing.B) {
	for _, nodes := range []int{0, 20_000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			recs := syntheticOn(100_000, nodes)
			b.ReportAllocs()
			for b.Loop() {
				s := NewStore(nil)
				for i, r := range recs {
					if err := s.Add(r, decisions[i%4]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkStoreMemory loads a million allocations and reports the heap
// they take per job, with the deduplication index and after Seal drops it:
// without node lists, and with node lists on a center of 20,000 nodes
// (busy nodes: their jobs' intervals merge) and of 100,000 nodes (idle
// nodes, the worst case: most intervals stay apart).
func BenchmarkStoreMemory(b *testing.B) {
	const n = 1_000_000
	for _, nodes := range []int{0, 20_000, 100_000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			recs := syntheticOn(n, nodes)
			for b.Loop() {
				runtime.GC()
				var before, loaded, sealed runtime.MemStats
				runtime.ReadMemStats(&before)
				s := NewStore(nil)
				for i, r := range recs {
					if err := s.Add(r, decisions[i%4]); err != nil {
						b.Fatal(err)
					}
				}
				s.jobs = s.jobs[:len(s.jobs):len(s.jobs)]
				runtime.GC()
				runtime.ReadMemStats(&loaded)
				s.Seal()
				runtime.GC()
				runtime.ReadMemStats(&sealed)
				b.ReportMetric(float64(loaded.HeapAlloc-before.HeapAlloc)/n, "bytes/job-loading")
				b.ReportMetric(float64(sealed.HeapAlloc-before.HeapAlloc)/n, "bytes/job-sealed")
				b.ReportMetric(float64(s.NodeStats().Spans)/n, "spans/job")
				runtime.KeepAlive(s)
			}
		})
	}
}

func BenchmarkCompute(b *testing.B) {
	for _, q := range []struct {
		name  string
		by    []Key
		every Period
	}{{"totals", nil, None}, {"by-partition-daily", []Key{KeyPartition}, Day}, {"by-account", []Key{KeyAccount}, None}} {
		b.Run(q.name, func(b *testing.B) {
			recs := synthetic(1_000_000)
			s := NewStore(nil)
			for i, r := range recs {
				if err := s.Add(r, decisions[i%4]); err != nil {
					b.Fatal(err)
				}
			}
			s.Seal()
			from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Compute(Query{From: from, To: from.AddDate(0, 0, 30), By: q.by, Every: q.every}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.Len()*b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}
