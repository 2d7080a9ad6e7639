package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmon/scmon/collector"
	"github.com/scmon/scmon/source"
)

// dumpJob is one allocation line of a test dump.
type dumpJob struct {
	id, state  string
	start, end string // "2026-01-20T00:00:00"; end "" while running
	cores      int
}

// writeDump writes a headed sacct dump of jobs on cluster c, partition
// cpu, and gives it a modification time of now, as a copy of an old dump
// has.
func writeDump(t *testing.T, path string, jobs ...dumpJob) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString(strings.Join(collector.DefaultSacctFields, "|") + "\n")
	for _, j := range jobs {
		end, elapsed := j.end, "00:00:00"
		if end == "" {
			end = "Unknown"
		}
		fmt.Fprintf(&sb, "%s|%s|c|cpu|normal|phys|u|u|%s|%s|%s|%s|%s|UNLIMITED|%s|0:0|1|%d|billing=%d,cpu=%d,node=1|billing=%d,cpu=%d,node=1|n1||/w||sim|sbatch sim\n",
			j.id, j.id, j.start, j.start, j.start, end, elapsed, j.state, j.cores, j.cores, j.cores, j.cores, j.cores)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stepped holds each poll of a real source until the test lets it run, so
// that the test sees the snapshot of every poll.
type stepped struct {
	source.JobSource
	step chan struct{}
}

func (s *stepped) Poll(ctx context.Context, c []byte) (*source.Batch, error) {
	select {
	case <-s.step:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.JobSource.Poll(ctx, c)
}

func (s *stepped) Kind() string { return kindOf(s.JobSource) }

// syncBuffer is a log sink safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// TestCountersExactAcrossDumpsAndReloads imports several dump files whose
// modification times are all the day they were copied, then reloads twice:
// once adding a source of two older dumps, once adding an older file to
// the first source. After every poll the published core-seconds counter
// must equal the hours held up to the published complete time, computed
// here from the jobs; it must never have been held above a recomputed
// value ("counter would decrease"). Once, a dump's running jobs were
// counted up to the file's modification time (a year past the dump), and
// a source a reload added pulled the complete time back.
func TestCountersExactAcrossDumpsAndReloads(t *testing.T) {
	dir := t.TempDir()
	f := func(name string) string { return filepath.Join(dir, name) }
	// Source a: January and February 2026. Job 2 runs at the end of
	// January and ends on February 2.
	writeDump(t, f("jan.psv"),
		dumpJob{"1", "COMPLETED", "2026-01-01T00:00:00", "2026-01-01T10:00:00", 2},
		dumpJob{"2", "RUNNING", "2026-01-20T00:00:00", "", 4},
		dumpJob{"3", "COMPLETED", "2026-01-25T00:00:00", "2026-01-25T12:00:00", 1})
	writeDump(t, f("feb.psv"),
		dumpJob{"2", "COMPLETED", "2026-01-20T00:00:00", "2026-02-02T00:00:00", 4},
		dumpJob{"4", "COMPLETED", "2026-02-10T00:00:00", "2026-02-10T06:00:00", 1})
	// Source b, added by a reload: November and December 2025. Job 10
	// runs at the end of November and ends on December 5.
	writeDump(t, f("nov.psv"),
		dumpJob{"10", "RUNNING", "2025-11-20T00:00:00", "", 8},
		dumpJob{"11", "COMPLETED", "2025-11-25T00:00:00", "2025-11-25T01:00:00", 1})
	writeDump(t, f("dec.psv"),
		dumpJob{"10", "COMPLETED", "2025-11-20T00:00:00", "2025-12-05T00:00:00", 8},
		dumpJob{"12", "COMPLETED", "2025-12-06T00:00:00", "2025-12-06T02:00:00", 2})
	// Added to source a by a second reload: October 2025, job 20 still
	// running at its end and in no later file.
	writeDump(t, f("oct.psv"),
		dumpJob{"20", "RUNNING", "2025-10-30T00:00:00", "", 3},
		dumpJob{"21", "COMPLETED", "2025-10-31T00:00:00", "2025-10-31T06:00:00", 1})

	config := f("scmon.yaml")
	write := func(a []string, b []string) {
		s := "data_dir: " + dir + "\ncluster: c\nsources:\n  - name: a\n    kind: dump\n    format: slurm-sacct\n    paths: [" + strings.Join(a, ", ") + "]\n"
		if b != nil {
			s += "  - name: b\n    kind: dump\n    format: slurm-sacct\n    paths: [" + strings.Join(b, ", ") + "]\n"
		}
		if err := os.WriteFile(config, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write([]string{f("jan.psv"), f("feb.psv")}, nil)
	cfg, raw, err := LoadConfig(config, nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	steps := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	d, err := New(cfg, raw, Options{ConfigPath: config, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Sources: func(c *Config, rt *Runtime) ([]source.JobSource, []source.NodeSource, error) {
			jobs, nodes, err := BuildSources(c, rt)
			for i := range jobs {
				jobs[i] = &stepped{JobSource: jobs[i], step: steps[jobs[i].Name()]}
			}
			return jobs, nodes, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := runDaemon(t, d)

	// The jobs as they really ran (running ones: up to the last instant
	// their last file names).
	ts := func(s string) time.Time {
		v, err := time.Parse("2006-01-02T15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type span struct {
		cores    float64
		from, to time.Time
	}
	truth := func(jobs ...span) func(time.Time) float64 {
		return func(upTo time.Time) float64 {
			var sum float64
			for _, j := range jobs {
				to := j.to
				if to.After(upTo) {
					to = upTo
				}
				if to.After(j.from) {
					sum += j.cores * to.Sub(j.from).Seconds()
				}
			}
			return sum
		}
	}
	polls := map[string]float64{}
	// poll lets source name poll once and returns the snapshot of it.
	poll := func(name string) (coreSeconds float64, complete time.Time) {
		t.Helper()
		steps[name] <- struct{}{}
		polls[name]++
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			s := d.Snapshot()
			for _, h := range s.Sources {
				if h.Name == name && h.PollCount == polls[name] {
					for _, a := range s.Allocated {
						coreSeconds += a.CoreSeconds
					}
					return coreSeconds, s.Complete
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Fatalf("no snapshot of poll %v of %s", polls[name], name)
		return 0, time.Time{}
	}
	check := func(what string, got float64, complete time.Time, want func(time.Time) float64, wantComplete string) {
		t.Helper()
		if !complete.Equal(ts(wantComplete)) {
			t.Errorf("%s: complete %v, want %s", what, complete, wantComplete)
		}
		if w := want(complete); got != w {
			t.Errorf("%s: %v core-seconds published, want %v (%.1f core-hours over)", what, got, w, (got-w)/3600)
		}
	}

	// Source a, one file per poll.
	jan := []span{{2, ts("2026-01-01T00:00:00"), ts("2026-01-01T10:00:00")}, {4, ts("2026-01-20T00:00:00"), ts("2026-01-25T12:00:00")}, {1, ts("2026-01-25T00:00:00"), ts("2026-01-25T12:00:00")}}
	got, c := poll("a")
	check("after jan.psv", got, c, truth(jan...), "2026-01-25T12:00:00")
	janFeb := []span{jan[0], {4, ts("2026-01-20T00:00:00"), ts("2026-02-02T00:00:00")}, jan[2], {1, ts("2026-02-10T00:00:00"), ts("2026-02-10T06:00:00")}}
	got, c = poll("a")
	check("after feb.psv", got, c, truth(janFeb...), "2026-02-10T06:00:00")

	// A reload adds source b with two older dumps: the complete time does
	// not move back, job 10 counts up to November's last instant, then
	// to its end.
	write([]string{f("jan.psv"), f("feb.psv")}, []string{f("nov.psv"), f("dec.psv")})
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	got, c = poll("a") // nothing new
	check("after the reload", got, c, truth(janFeb...), "2026-02-10T06:00:00")
	nov := append(janFeb, span{8, ts("2025-11-20T00:00:00"), ts("2025-11-25T01:00:00")}, span{1, ts("2025-11-25T00:00:00"), ts("2025-11-25T01:00:00")})
	got, c = poll("b")
	check("after nov.psv", got, c, truth(nov...), "2026-02-10T06:00:00")
	dec := append(janFeb, span{8, ts("2025-11-20T00:00:00"), ts("2025-12-05T00:00:00")}, nov[5], span{2, ts("2025-12-06T00:00:00"), ts("2025-12-06T02:00:00")})
	got, c = poll("b")
	check("after dec.psv", got, c, truth(dec...), "2026-02-10T06:00:00")

	// A reload adds an older file to source a: job 20 is known to run up
	// to October's last instant only.
	write([]string{f("jan.psv"), f("feb.psv"), f("oct.psv")}, []string{f("nov.psv"), f("dec.psv")})
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	oct := append(dec, span{3, ts("2025-10-30T00:00:00"), ts("2025-10-31T06:00:00")}, span{1, ts("2025-10-31T00:00:00"), ts("2025-10-31T06:00:00")})
	got, c = poll("a")
	check("after oct.psv", got, c, truth(oct...), "2026-02-10T06:00:00")

	if strings.Contains(logs.String(), "counter would decrease") {
		t.Errorf("a counter was held above its recomputed value:\n%s", logs.String())
	}
}
