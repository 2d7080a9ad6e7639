package daemon

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/usage"
)

// benchCenter is a synthetic center on the built-in sample's inventory:
// jobs spread over a year on its four partitions, some still running, with
// node lists, accelerators and every class.
type benchCenter struct {
	d       *Daemon
	rng     *rand.Rand
	end     time.Time
	next    int
	running []*job.Record
}

var benchParts = []struct {
	name, gres string
	prefix     string
	nodes      int
	cores      int64
	accels     int64
}{
	{"cpu", "", "cn", 384, 64, 0},
	{"gpu", "gpu:a100", "gn", 32, 64, 8},
	{"npu", "npu:910b", "nn", 32, 192, 8},
	{"dcu", "dcu:k100", "dn", 160, 32, 4},
}

// record makes job number n, ending at end (zero: running).
func (c *benchCenter) record(n int, start, end time.Time) *job.Record {
	p := benchParts[n%len(benchParts)]
	nodes := 1 + c.rng.IntN(4)
	first := c.rng.IntN(p.nodes - nodes + 1)
	r := &job.Record{Cluster: "sample", JobID: strconv.Itoa(n), Partition: p.name, User: "u" + strconv.Itoa(n%97),
		Account: "a" + strconv.Itoa(n%13), State: job.StateCompleted, Submit: start.Add(-time.Duration(c.rng.IntN(7200)) * time.Second),
		Start: start, End: end, Nodes: int64(nodes), Cores: p.cores * int64(nodes),
		NodeList: fmt.Sprintf("%s[%04d-%04d]", p.prefix, first+1, first+nodes)}
	if end.IsZero() {
		r.State = job.StateRunning
	}
	if p.gres != "" {
		name, typ, _ := cut(p.gres)
		r.Accels = []job.Accel{{Name: name, Type: typ, Count: p.accels * int64(nodes)}}
	}
	return r
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func decision(n int) classify.Decision {
	return classify.Decision{Class: classify.Classes[n%len(classify.Classes)], Rules: []string{"r" + strconv.Itoa(n%5)}}
}

// newBenchCenter stores n jobs over the year before end, the last 1,000
// of them still running, and publishes once.
func newBenchCenter(tb testing.TB, n int) *benchCenter {
	tb.Helper()
	cfg, raw, err := LoadConfig("", nil)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := New(cfg, raw, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	c := &benchCenter{d: d, rng: rand.New(rand.NewPCG(1, 2)), end: end}
	d.mem = usage.NewStore(d.rt.Load().Table)
	year := int64(365 * 86400)
	for i := 0; i < n; i++ {
		start := end.Add(-time.Duration(year*int64(i+1)/int64(n+1)) * time.Second)
		start = start.Add(-time.Duration(c.rng.IntN(3600)) * time.Second)
		var stop time.Time
		if i >= 1000 {
			stop = start.Add(time.Duration(60+c.rng.IntN(2*86400)) * time.Second)
			if stop.After(end) {
				stop = end
			}
		}
		r := c.record(i, start, stop)
		if stop.IsZero() {
			c.running = append(c.running, r)
		}
		if err := d.mem.Add(r, decision(i)); err != nil {
			tb.Fatal(err)
		}
		if d.origin.IsZero() || start.Before(d.origin) {
			d.origin = start
		}
	}
	c.next = n
	d.complete["bench"] = end
	d.health["bench"] = &sourceHealth{kind: "sacct", up: true, lastSuccess: end, records: map[string]float64{}}
	d.publish()
	if d.Snapshot() == nil {
		tb.Fatal("nothing published")
	}
	return c
}

// poll is one minute of the center: 100 new jobs that ran within the
// minute, 20 running jobs end and 20 new ones start.
func (c *benchCenter) poll(tb testing.TB) {
	d := c.d
	prev := c.end
	c.end = c.end.Add(time.Minute)
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := 0; k < 100; k++ {
		start := prev.Add(time.Duration(c.rng.IntN(30)) * time.Second)
		r := c.record(c.next, start, start.Add(time.Duration(1+c.rng.IntN(29))*time.Second))
		if err := d.mem.Add(r, decision(c.next)); err != nil {
			tb.Fatal(err)
		}
		c.next++
	}
	for k := 0; k < 20 && len(c.running) > 0; k++ {
		i := c.rng.IntN(len(c.running))
		r := *c.running[i]
		r.End, r.State = prev.Add(time.Duration(c.rng.IntN(60))*time.Second), job.StateCompleted
		n, _ := strconv.Atoi(r.JobID)
		if err := d.mem.Add(&r, decision(n)); err != nil {
			tb.Fatal(err)
		}
		c.running[i] = c.running[len(c.running)-1]
		c.running = c.running[:len(c.running)-1]
		nr := c.record(c.next, prev.Add(time.Duration(c.rng.IntN(60))*time.Second), time.Time{})
		if err := d.mem.Add(nr, decision(c.next)); err != nil {
			tb.Fatal(err)
		}
		c.running = append(c.running, nr)
		c.next++
	}
	d.complete["bench"] = c.end
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// centers keeps the centers the benchmarks built, by size: setting one up
// takes far longer than the publishes measured, and the benchmark runs
// several rounds.
var centers = map[int]*benchCenter{}

func benchPublish(b *testing.B, n int) {
	c := centers[n]
	if c == nil {
		c = newBenchCenter(b, n)
		centers[n] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c.poll(b)
		before := cpuTime()
		b.StartTimer()
		c.d.publish()
		b.StopTimer()
		cpu += cpuTime() - before
		b.StartTimer()
	}
	if s := c.d.snap.Load(); s == nil || len(s.Friction) == 0 {
		b.Fatal("no friction counters published: the benchmark would not count their cost")
	}
	// Wall time on a shared machine says little; the CPU time the process
	// spent (run with GOMAXPROCS=1, so that it is the publish and its
	// garbage collection) is the figure.
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/publish")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/publish")
}

// BenchmarkPublish1M publishes after a one-minute poll with a million
// stored jobs.
func BenchmarkPublish1M(b *testing.B) { benchPublish(b, 1_000_000) }

// BenchmarkPublish10M is the same with ten million stored jobs: several
// GB of memory and minutes to set up, so it runs only when
// SCMON_BENCH_10M is set.
func BenchmarkPublish10M(b *testing.B) {
	if os.Getenv("SCMON_BENCH_10M") == "" {
		b.Skip("set SCMON_BENCH_10M=1 to run")
	}
	benchPublish(b, 10_000_000)
}
