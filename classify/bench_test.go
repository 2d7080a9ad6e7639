package classify

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// benchRecords returns a million records drawn from a few thousand
// distinct workloads, as a center's accounting looks: the same scripts,
// names and resource shapes again and again, with ids, users and times
// that differ.
func benchRecords(tb testing.TB) (recs []*job.Record, distinct int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(42, 42))
	templates := variedRecords(3000, 99)
	recs = make([]*job.Record, 1_000_000)
	for i := range recs {
		r := *templates[rng.IntN(len(templates))]
		r.JobID = fmt.Sprint(100000 + i)
		r.User = fmt.Sprint("u", rng.IntN(500))
		r.Start = t0.Add(time.Duration(i) * time.Second)
		if !templates[0].End.IsZero() || rng.IntN(2) == 0 {
			r.End = r.Start.Add(templates[i%len(templates)].End.Sub(templates[i%len(templates)].Start))
		}
		recs[i] = &r
	}
	return recs, len(templates)
}

// BenchmarkClassifyCached measures one classification through the cache;
// "s/1M" is the time to classify the whole million.
func BenchmarkClassifyCached(b *testing.B) {
	recs, _ := benchRecords(b)
	c := New(mustDefault(b), Options{})
	b.ReportAllocs()
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		c.Classify(recs[i%len(recs)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*1e6/1e9, "s/1M")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(c.CacheStats().Entries), "signatures")
}

// BenchmarkClassifyUncached measures one classification without the cache:
// every rule evaluated on every record.
func BenchmarkClassifyUncached(b *testing.B) {
	recs, _ := benchRecords(b)
	c := New(mustDefault(b), Options{CacheSize: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Classify(recs[i%len(recs)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*1e6/1e9, "s/1M")
}

// BenchmarkClassifyCachedParallel measures the cache under contention from
// GOMAXPROCS goroutines.
func BenchmarkClassifyCachedParallel(b *testing.B) {
	recs, _ := benchRecords(b)
	c := New(mustDefault(b), Options{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(recs))
		for pb.Next() {
			c.Classify(recs[i%len(recs)])
			i++
		}
	})
}

// BenchmarkExplain measures an explanation, for --explain on many jobs.
func BenchmarkExplain(b *testing.B) {
	recs := variedRecords(1000, 5)
	c := New(mustDefault(b), Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Explain(recs[i%len(recs)])
		i++
	}
}

// BenchmarkClassifyBatch measures every stage (rules and lexicon through
// the cache, context and learned stages) over a million records; one
// iteration is the whole million, so ns/op is the time per million and
// "ns/record" the time per record.
func BenchmarkClassifyBatch(b *testing.B) {
	recs, _ := benchRecords(b)
	c := New(mustDefault(b), Options{})
	c.ClassifyBatch(recs) // fill the cache, as a running center's classifier is
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		c.ClassifyBatch(recs)
	}
	reportPerRecord(b, cpuTime()-cpu, len(recs))
}

// reportPerRecord reports the time per record of a benchmark whose
// iteration classifies n records: by the wall clock ("ns/record") and by
// the process's CPU time ("cpu-ns/record"), which a loaded machine does
// not inflate. With GOMAXPROCS=1 the CPU time is one core's.
func reportPerRecord(b *testing.B, cpu time.Duration, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/record")
}

// BenchmarkClassifyManyGres measures one uncached classification of a
// record with 70,000 distinct GRES types: bounded, it costs about what an
// ordinary uncached record costs (BenchmarkClassifyUncached).
func BenchmarkClassifyManyGres(b *testing.B) {
	r := manyGres(70_000)
	c := New(mustDefault(b), Options{CacheSize: -1})
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(r)
	}
}
