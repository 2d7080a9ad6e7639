package jobstore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// fill applies n synthetic records to s in batches of size.
func fill(tb testing.TB, s Store, n, size int) {
	tb.Helper()
	for first := 0; first < n; first += size {
		recs, decs := synthBatch(first, min(size, n-first))
		mustApply(tb, s, Batch{Source: "bench", Cursor: []byte(strconv.Itoa(first)), Records: recs, Decisions: decs})
	}
}

// benchBackends runs f per backend as sub-benchmarks.
func benchBackends(b *testing.B, f func(b *testing.B, be backend)) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) { f(b, be) })
	}
}

// BenchmarkApply measures committing batches of 1000 records: new runs
// (a source catching up) and runs already stored unchanged (the overlap of
// consecutive polls).
func BenchmarkApply(b *testing.B) {
	const size = 1000
	benchBackends(b, func(b *testing.B, be backend) {
		b.Run("new", func(b *testing.B) {
			s := openStore(b, be.dsn(b))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				recs, decs := synthBatch(i*size, size)
				b.StartTimer()
				mustApply(b, s, Batch{Source: "bench", Cursor: []byte{1}, Records: recs, Decisions: decs})
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("unchanged", func(b *testing.B) {
			s := openStore(b, be.dsn(b))
			recs, decs := synthBatch(0, size)
			mustApply(b, s, Batch{Records: recs, Decisions: decs})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := mustApply(b, s, Batch{Source: "bench", Cursor: []byte{1}, Records: recs, Decisions: decs}); res.Unchanged != size {
					b.Fatalf("Apply = %+v", res)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "records/s")
		})
	})
}

// BenchmarkScan measures reading every record of a 100,000-record store,
// alone and into the usage engine (the daemon's start).
func BenchmarkScan(b *testing.B) {
	const n = 100_000
	benchBackends(b, func(b *testing.B, be backend) {
		s := openStore(b, be.dsn(b))
		fill(b, s, n, 5000)
		ctx := context.Background()
		b.Run("read", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				count := 0
				if err := s.Scan(ctx, func(*job.Record, job.Decision) error { count++; return nil }); err != nil || count != n {
					b.Fatalf("Scan: %d records, %v", count, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("usage", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				u := usage.NewStore(nil)
				if err := s.Scan(ctx, u.Add); err != nil || u.Len() != n {
					b.Fatalf("Scan: %d records, %v", u.Len(), err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	})
}

// BenchmarkJobs measures the job-level queries of the JSON API and the
// Grafana data source on a 100,000-record store (30 days): one day's jobs,
// the AI jobs of one account over the month, and the jobs running at an
// instant.
func BenchmarkJobs(b *testing.B) {
	const n = 100_000
	day := time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)
	queries := []struct {
		name string
		q    JobQuery
	}{
		{"day", JobQuery{From: day, To: day.Add(24 * time.Hour), Limit: 1000}},
		{"account-ai-month", JobQuery{From: day.AddDate(0, 0, -14), To: day.AddDate(0, 0, 16), Accounts: []string{"acct042"},
			Classes: []job.Class{job.ClassAITraining, job.ClassAIInference}}},
		{"instant", JobQuery{From: day, To: day.Add(time.Second), Limit: MaxLimit}},
	}
	benchBackends(b, func(b *testing.B, be backend) {
		s := openStore(b, be.dsn(b))
		fill(b, s, n, 5000)
		for _, q := range queries {
			b.Run(q.name, func(b *testing.B) {
				rows := 0
				for i := 0; i < b.N; i++ {
					got, err := s.Jobs(context.Background(), q.q)
					if err != nil {
						b.Fatal(err)
					}
					rows = len(got)
				}
				b.ReportMetric(float64(rows), "rows")
			})
		}
	})
}

// BenchmarkReclassify measures a configuration reload that changes the
// decision of every record of a 100,000-record store (alternating between
// two rule sets) and one that changes none.
func BenchmarkReclassify(b *testing.B) {
	const n = 100_000
	benchBackends(b, func(b *testing.B, be backend) {
		s := openStore(b, be.dsn(b))
		fill(b, s, n, 5000)
		ctx := context.Background()
		flip := 0
		b.Run("all-change", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				flip++
				changed, err := s.Reclassify(ctx, func(*job.Record) job.Decision {
					return job.Decision{Class: job.ClassOther, Rules: []string{"rules.v" + strconv.Itoa(flip)}}
				})
				if err != nil || changed != n {
					b.Fatalf("Reclassify = %d, %v", changed, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("none-change", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				changed, err := s.Reclassify(ctx, func(*job.Record) job.Decision {
					return job.Decision{Class: job.ClassOther, Rules: []string{"rules.v" + strconv.Itoa(flip)}}
				})
				if err != nil || changed != 0 {
					b.Fatalf("Reclassify = %d, %v", changed, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	})
}

// TestRebuild checks at test size what BenchmarkRebuild measures: a usage
// engine rebuilt from the store equals one loaded from the records
// directly.
func TestRebuild(t *testing.T) {
	const n = 10_000
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t))
		direct := usage.NewStore(nil)
		for first := 0; first < n; first += 2000 {
			recs, decs := synthBatch(first, 2000)
			// Half of each batch goes in first as running jobs, so that
			// the store has to replace them.
			running := make([]*job.Record, 1000)
			for i, r := range recs[:1000] {
				c := *r
				c.End, c.State = time.Time{}, job.StateRunning
				running[i] = &c
			}
			mustApply(t, s, Batch{Records: running, Decisions: decs[:1000]})
			mustApply(t, s, Batch{Source: "src", Cursor: []byte{1}, Records: recs, Decisions: decs})
			for i, r := range recs {
				if err := direct.Add(r, decs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		rebuilt := usage.NewStore(nil)
		if err := s.Scan(context.Background(), rebuilt.Add); err != nil {
			t.Fatal(err)
		}
		if rebuilt.Len() != n || !reflect.DeepEqual(rebuilt.Jobs(), direct.Jobs()) {
			t.Fatalf("rebuilt engine holds %d jobs, differing from the %d loaded directly", rebuilt.Len(), direct.Len())
		}
		for i := range n {
			if !reflect.DeepEqual(rebuilt.JobDevices(i), direct.JobDevices(i)) {
				t.Fatalf("job %d: devices %v, want %v", i, rebuilt.JobDevices(i), direct.JobDevices(i))
			}
		}
		if !reflect.DeepEqual(rebuilt.Devices(), direct.Devices()) {
			t.Errorf("device tables differ")
		}
	})
}

// envRebuildChild makes the test binary rebuild a usage engine from the
// store it names and print a rebuildReport.
const envRebuildChild = "SCMON_JOBSTORE_REBUILD_CHILD"

// rebuildReport is what a rebuild child measured.
type rebuildReport struct {
	Records int     `json:"records"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the CPU time (user and system) of the whole child.
	CPUSeconds  float64 `json:"cpu_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	// BaseRSSBytes is the peak before the scan (the binary and the open
	// store).
	BaseRSSBytes int64 `json:"base_rss_bytes"`
	HeapBytes    int64 `json:"heap_bytes"`
}

// maxRSS returns the process's peak resident set size (VmHWM). Unlike
// getrusage's ru_maxrss, which a child inherits from the process that forked
// it, VmHWM starts afresh at exec.
func maxRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kib << 10
		}
	}
	return -1
}

// rebuildChild opens dsn, rebuilds a usage engine from it as the daemon does
// at start, and prints what it measured as JSON.
func rebuildChild(dsn string) int {
	ctx := context.Background()
	start := time.Now()
	s, err := Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	rep := rebuildReport{BaseRSSBytes: maxRSS()}
	u := usage.NewStore(nil)
	if err := s.Scan(ctx, u.Add); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.CPUSeconds = cpuTime().Seconds()
	rep.Records = u.Len()
	rep.MaxRSSBytes = maxRSS()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.HeapBytes = int64(ms.HeapAlloc)
	runtime.KeepAlive(u)
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 2
	}
	return 0
}

// BenchmarkRebuild measures the daemon's start: opening the store and
// loading every record into a usage engine, in a fresh process so that its
// peak RSS is the rebuild's own. The store holds
// SCMON_JOBSTORE_REBUILD_RECORDS synthetic records (default 100,000; the
// figures in the package report are for 1,000,000), or is the SQLite file
// SCMON_JOBSTORE_REBUILD_STORE names. It also reports the
// store's bytes per record on disk.
func BenchmarkRebuild(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SCMON_JOBSTORE_REBUILD_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	// A store made before (by BenchmarkImport with envBenchKeep) saves
	// filling one: 10,000,000 records take minutes.
	kept := os.Getenv("SCMON_JOBSTORE_REBUILD_STORE")
	benchBackends(b, func(b *testing.B, be backend) {
		dsn := be.dsn(b)
		if kept != "" {
			if be.name != "sqlite" {
				b.Skip("SCMON_JOBSTORE_REBUILD_STORE names a SQLite store")
			}
			dsn = "sqlite://" + kept
		}
		s := openStore(b, dsn)
		if kept == "" {
			fillStart := time.Now()
			fill(b, s, n, 5000)
			b.Logf("%s: stored %d records in %v", be.name, n, time.Since(fillStart).Round(time.Millisecond))
		}
		st, err := s.Stats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if be.name == "sqlite" {
			// Measure the file as a restarted daemon finds it, after the
			// last connection's checkpoint.
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			s = openStore(b, dsn)
			if st, err = s.Stats(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		var rep rebuildReport
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), envRebuildChild+"="+dsn)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				b.Fatal(err)
			}
			if err := json.Unmarshal(out, &rep); err != nil || int64(rep.Records) != st.Records {
				b.Fatalf("rebuild child printed %q (%v)", out, err)
			}
		}
		b.ReportMetric(rep.Seconds, "s/rebuild")
		b.ReportMetric(rep.CPUSeconds, "CPU-s/rebuild")
		b.ReportMetric(float64(rep.Records)/rep.Seconds, "records/s")
		b.ReportMetric(float64(rep.MaxRSSBytes)/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(rep.BaseRSSBytes)/(1<<20), "base-RSS-MiB")
		b.ReportMetric(float64(rep.HeapBytes)/(1<<20), "engine-heap-MiB")
		b.ReportMetric(float64(st.Bytes)/float64(st.Records), "disk-bytes/record")
	})
}
