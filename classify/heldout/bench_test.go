package heldout

import (
	"strconv"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/classify/internal/labgen"
	"github.com/scmon/scmon/job"
)

// centerMillion returns a million records made of the README's generated
// center repeated: its runs as the sacct reader gave them, each copy with
// its own job ids, so that the batch sees a center's variety of names,
// commands, accounts and shapes rather than a few templates.
func centerMillion(b *testing.B) []*job.Record {
	b.Helper()
	d, err := Load(labgen.Config{Seed: DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]*job.Record, 1_000_000)
	for i := range recs {
		r := *d.Records[i%len(d.Records)]
		r.JobID = strconv.Itoa(5_000_000 + i)
		recs[i] = &r
	}
	return recs
}

// BenchmarkClassifyBatchCenter classifies a million records of the
// generated center with every stage (rules and lexicon through the
// signature cache, context, learned model). "warm" reuses the classifier,
// as the daemon does; "cold" starts each million with an empty cache, as
// a one-off report does. One iteration is the whole million; run with
// GOMAXPROCS=1 for one core (make bench does). "cpu-ns/record" is the process's CPU time,
// which a loaded machine does not inflate as it does the wall clock.
func BenchmarkClassifyBatchCenter(b *testing.B) {
	recs := centerMillion(b)
	rs, err := classify.DefaultRules()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("warm", func(b *testing.B) {
		c := classify.New(rs, classify.Options{})
		c.ClassifyBatch(recs)
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			c.ClassifyBatch(recs)
		}
		perRecord(b, cpuTime()-cpu, len(recs))
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			classify.New(rs, classify.Options{}).ClassifyBatch(recs)
		}
		perRecord(b, cpuTime()-cpu, len(recs))
	})
}

// perRecord reports the time per record by the wall clock and by CPU
// time, and the CPU seconds per million records (with GOMAXPROCS=1, one
// core's seconds: the figure the README holds to 1 s).
func perRecord(b *testing.B, cpu time.Duration, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/record")
	b.ReportMetric(cpu.Seconds()/float64(b.N)*1e6/float64(n), "cpu-s/1M")
}
