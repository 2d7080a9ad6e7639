package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
)

// scriptedSource returns, one per Poll, the batches a test sends it.
type scriptedSource struct{ batches chan *source.Batch }

func (s *scriptedSource) Name() string { return "scripted" }

func (s *scriptedSource) Poll(ctx context.Context, _ []byte) (*source.Batch, error) {
	select {
	case b := <-s.batches:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestRunningCountedToComplete: a job a poll saw running is counted up to
// the poll's complete time and no further. It may end within that same
// second (sacct's End is whole seconds), and the counter, which never goes
// down, would otherwise keep a second too many of it for good (found by
// test/e2e against real Slurm: sacct said 10 core-seconds, the counter 12).
func TestRunningCountedToComplete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\nsources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &scriptedSource{batches: make(chan *source.Batch)}
	d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
		return []source.JobSource{src}, nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, d)

	start := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	record := func(end time.Time, state job.State) []*job.Record {
		return []*job.Record{{Cluster: "c", JobID: "7", RawID: "7", Partition: "cpu", State: state,
			Submit: start, Start: start, End: end, Cores: 4, Nodes: 1}}
	}
	// coreSeconds waits for the snapshot of the given number of polls and
	// returns its allocated core-seconds.
	coreSeconds := func(polls float64) float64 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if s := d.Snapshot(); s != nil && len(s.Sources) == 1 && s.Sources[0].PollCount == polls {
				var sum float64
				for _, a := range s.Allocated {
					sum += a.CoreSeconds
				}
				return sum
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("no snapshot of poll %v", polls)
		return 0
	}

	// Seen running by a poll complete up to start+10s: 4 cores x 10 s.
	src.batches <- &source.Batch{Source: "scripted", Records: record(time.Time{}, job.StateRunning),
		Complete: start.Add(10 * time.Second), Cursor: []byte("1"), More: true}
	if got := coreSeconds(1); got != 40 {
		t.Errorf("running job: %v core-seconds, want 40 (counted up to the complete time)", got)
	}
	// It ended in that same second: End = start+10s.
	src.batches <- &source.Batch{Source: "scripted", Records: record(start.Add(10*time.Second), job.StateCompleted),
		Complete: start.Add(12 * time.Second), Cursor: []byte("2"), More: true}
	if got := coreSeconds(2); got != 40 {
		t.Errorf("ended job: %v core-seconds, want 40", got)
	}
}

// TestReloadForgetsRemovedSource: a source that a reload removes no longer
// holds the counters back at its last complete time (they are cut at the
// earliest complete time of the sources), and its health is no longer
// reported; its records stay counted.
func TestReloadForgetsRemovedSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scmon.yaml")
	write := func(names ...string) {
		s := "data_dir: " + dir + "\nsources:\n"
		for _, n := range names {
			s += "  - {name: " + n + ", kind: dump, format: slurm-sacct, paths: [unused.psv]}\n"
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "b")
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string]*namedSource{"a": {name: "a", batches: make(chan *source.Batch)}, "b": {name: "b", batches: make(chan *source.Batch)}}
	d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(c *Config, _ *Runtime) ([]source.JobSource, []source.NodeSource, error) {
		var out []source.JobSource
		for _, s := range c.Sources {
			out = append(out, srcs[s.Name])
		}
		return out, nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := runDaemon(t, d)

	t0 := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	ended := func(id string, from, to time.Duration) []*job.Record {
		return []*job.Record{{Cluster: "c", JobID: id, Partition: "cpu", State: job.StateCompleted,
			Submit: t0.Add(from), Start: t0.Add(from), End: t0.Add(to), Cores: 4, Nodes: 1}}
	}
	wait := func(what string, cond func(*snapshot.Snapshot) bool) *snapshot.Snapshot {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if s := d.Snapshot(); s != nil && cond(s) {
				return s
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("no snapshot with %s", what)
		return nil
	}
	cores := func(s *snapshot.Snapshot) float64 {
		var sum float64
		for _, a := range s.Allocated {
			sum += a.CoreSeconds
		}
		return sum
	}

	srcs["a"].batches <- &source.Batch{Records: ended("1", 0, 10*time.Second), Complete: t0.Add(10 * time.Second), Cursor: []byte("1"), More: true}
	srcs["b"].batches <- &source.Batch{Complete: t0.Add(10 * time.Second), Cursor: []byte("1"), More: true}
	wait("40 core-seconds from both sources", func(s *snapshot.Snapshot) bool { return cores(s) == 40 && len(s.Sources) == 2 })

	write("a")
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	srcs["a"].batches <- &source.Batch{Records: ended("2", 20*time.Second, 30*time.Second), Complete: t0.Add(40 * time.Second), Cursor: []byte("2"), More: true}
	s := wait("the second job", func(s *snapshot.Snapshot) bool {
		for _, h := range s.Sources {
			if h.Name == "a" && h.Up && h.Records["stored"] == 2 {
				return true
			}
		}
		return false
	})
	if got := cores(s); got != 80 {
		t.Errorf("after removing source b: %v core-seconds, want 80 (the removed source must not cut the counters at its last complete time)", got)
	}
	if len(s.Sources) != 1 || s.Sources[0].Name != "a" {
		t.Errorf("sources after the reload: %+v, want a only", s.Sources)
	}
}

// namedSource is a scriptedSource with a name of its own.
type namedSource struct {
	name    string
	batches chan *source.Batch
}

func (s *namedSource) Name() string { return s.name }

func (s *namedSource) Poll(ctx context.Context, _ []byte) (*source.Batch, error) {
	select {
	case b := <-s.batches:
		b.Source = s.name
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestCompleteTimeIgnoresNoClaim: a source that has claimed no time yet
// does not decide the complete time, whatever the map's order.
func TestCompleteTimeIgnoresNoClaim(t *testing.T) {
	at := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	d := &Daemon{complete: map[string]time.Time{"sacct": at, "dump": {}, "jobcomp": at.Add(time.Minute)}}
	for i := 0; i < 50; i++ {
		if got := d.completeTime(); !got.Equal(at) {
			t.Fatalf("completeTime = %v, want %v", got, at)
		}
	}
	d = &Daemon{complete: map[string]time.Time{"dump": {}}}
	if got := d.completeTime(); !got.IsZero() {
		t.Errorf("completeTime with no claim = %v, want zero", got)
	}
}

// TestCompleteTimeFinishedSources: a finished dump (its file's time) does
// not hold back a live source; alone, it gives its own time.
func TestCompleteTimeFinishedSources(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	live := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	d := &Daemon{complete: map[string]time.Time{"dump": old, "jobcomp": live}, done: map[string]bool{"dump": true}}
	if got := d.completeTime(); !got.Equal(live) {
		t.Errorf("completeTime = %v, want the live source's %v", got, live)
	}
	d = &Daemon{complete: map[string]time.Time{"dump": old, "dump2": old.Add(time.Hour)}, done: map[string]bool{"dump": true, "dump2": true}}
	if got := d.completeTime(); !got.Equal(old.Add(time.Hour)) {
		t.Errorf("completeTime of finished dumps = %v, want %v", got, old.Add(time.Hour))
	}
}

type blockingSource struct{}

func (blockingSource) Name() string { return "blocking" }
func (blockingSource) Poll(ctx context.Context, _ []byte) (*source.Batch, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCancelledPollIsNoFailure: a poll stopped by a reload or a shutdown
// does not mark the source down.
func TestCancelledPollIsNoFailure(t *testing.T) {
	cfg, raw, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, raw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.openStore(context.Background(), "sqlite://"+t.TempDir()+"/s.db"); err != nil {
		t.Fatal(err)
	}
	defer d.closeStore()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.pollOnce(ctx, blockingSource{}); err == nil {
		t.Fatal("a cancelled poll succeeded")
	}
	if h := d.health["blocking"]; h != nil && (h.failures != 0 || h.lastError != "") {
		t.Errorf("health after a cancelled poll: %+v", h)
	}
}
