package jobstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/scmon/scmon/usage"
)

// envBenchJobs sets the number of jobs of the scale benchmarks
// (BenchmarkImport, BenchmarkLoad); the default is 1,000,000.
const envBenchJobs = "SCMON_JOBSTORE_BENCH_JOBS"

// envBenchKeep names a directory where BenchmarkImport leaves its SQLite
// store (scmon.db, as the daemon's data directory holds it), for measuring
// a daemon's restart on it (scripts/store-restart.sh).
const envBenchKeep = "SCMON_JOBSTORE_BENCH_KEEP"

// benchJobs returns the scale benchmarks' job count.
func benchJobs(b *testing.B) int {
	n := 1_000_000
	if v := os.Getenv(envBenchJobs); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive count", envBenchJobs, v)
		}
	}
	return n
}

// cpuTime returns the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// importBatch is the number of records per batch of the scale
// benchmarks: what a dump import or a catching-up poll commits at once.
const importBatch = 10_000

// BenchmarkImport measures importing a dump into an empty store: n
// synthetic jobs (synthBatch) committed in batches of importBatch with
// their cursor. It reports jobs per second of wall time and of this
// process's CPU time (the store's own work; PostgreSQL's server runs in
// other processes), and the bytes per job the store then takes on disk.
// Generating the records is not timed.
func BenchmarkImport(b *testing.B) {
	n := benchJobs(b)
	benchBackends(b, func(b *testing.B, be backend) {
		for i := 0; i < b.N; i++ {
			dsn := be.dsn(b)
			if keep := os.Getenv(envBenchKeep); keep != "" && be.name == "sqlite" {
				path := filepath.Join(keep, "scmon.db")
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
						b.Fatal(err)
					}
				}
				dsn = "sqlite://" + path
			}
			s := openStore(b, dsn)
			ctx := context.Background()
			var wall, cpu time.Duration
			b.ResetTimer()
			for first := 0; first < n; first += importBatch {
				b.StopTimer()
				recs, decs := synthBatch(first, min(importBatch, n-first))
				b.StartTimer()
				w0, c0 := time.Now(), cpuTime()
				if _, err := s.Apply(ctx, Batch{Source: "dump", Cursor: []byte(strconv.Itoa(first)), Records: recs, Decisions: decs}); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(w0)
				cpu += cpuTime() - c0
			}
			b.StopTimer()
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			// Measure the store as a restarted daemon finds it.
			s = openStore(b, dsn)
			st, err := s.Stats(ctx)
			if err != nil || st.Records != int64(n) {
				b.Fatalf("Stats = %+v, %v; want %d records", st, err, n)
			}
			b.ReportMetric(float64(n)/wall.Seconds(), "jobs/s")
			b.ReportMetric(float64(n)/cpu.Seconds(), "jobs/CPU-s")
			b.ReportMetric(float64(st.Bytes)/float64(n), "disk-bytes/job")
			b.StartTimer()
		}
	})
}

// BenchmarkLoad measures what a restarted daemon does first: reading every
// stored job into a usage engine, for a store of n synthetic jobs.
func BenchmarkLoad(b *testing.B) {
	n := benchJobs(b)
	benchBackends(b, func(b *testing.B, be backend) {
		dsn := be.dsn(b)
		s := openStore(b, dsn)
		fill(b, s, n, importBatch)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			u := usage.NewStore(nil)
			if err := s.Scan(ctx, u.Add); err != nil || u.Len() != n {
				b.Fatalf("Scan: %d jobs, %v", u.Len(), err)
			}
		}
		cpu := cpuTime() - c0
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "jobs/s")
		b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "jobs/CPU-s")
	})
}
