package daemon

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/source"
	"github.com/scmon/scmon/web"
)

// TestReadyAfterFirstPolls: /-/ready, over a real HTTP server, answers 503
// while any source has not delivered its first successful poll (a failed
// poll does not count; the reason names the source and its error), and
// 200 from the first snapshot that holds every source's first poll.
func TestReadyAfterFirstPolls(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\nsources:\n  - {name: a, kind: dump, format: slurm-sacct, paths: [unused.psv]}\n  - {name: b, kind: dump, format: slurm-sacct, paths: [unused.psv]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &failingSource{namedSource: namedSource{name: "a", batches: make(chan *source.Batch)}, fail: make(chan error)}
	b := &namedSource{name: "b", batches: make(chan *source.Batch)}
	d, err := New(cfg, raw, Options{ConfigPath: path, Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
		return []source.JobSource{a, b}, nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(d.WebBackend(), web.Options{}).Handler())
	defer srv.Close()
	ready := func() (int, string) {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/-/ready")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitFor("the store to load", func() bool { return d.Snapshot() != nil })
	if code, body := ready(); code != 503 || !strings.Contains(body, "a, b") {
		t.Errorf("with the store loaded and no poll: %d %q, want 503 naming a and b", code, body)
	}

	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	rec := &job.Record{Cluster: "c", JobID: "1", Partition: "cpu", State: job.StateCompleted,
		Submit: t0, Start: t0, End: t0.Add(time.Hour), Cores: 2, Nodes: 1}
	b.batches <- &source.Batch{Records: []*job.Record{rec}, Complete: t0.Add(2 * time.Hour), Cursor: []byte("1")}
	a.fail <- errDisk
	waitFor("a's failure to be published", func() bool {
		_, body := ready()
		return strings.Contains(body, "disk full")
	})
	if code, body := ready(); code != 503 || strings.Contains(body, "b") && !strings.Contains(body, "disk full") {
		t.Errorf("after b's poll and a's failure: %d %q, want 503 waiting for a only", code, body)
	}
	a.batches <- &source.Batch{Complete: t0.Add(2 * time.Hour), Cursor: []byte("1")}
	waitFor("ready", func() bool { code, _ := ready(); return code == 200 })
	// The snapshot that made the daemon ready holds both polls.
	var cs float64
	for _, x := range d.Snapshot().Allocated {
		cs += x.CoreSeconds
	}
	if cs != 7200 {
		t.Errorf("ready with %v core-seconds published, want 7200 (b's record)", cs)
	}
}

var errDisk = &pollError{"disk full"}

type pollError struct{ msg string }

func (e *pollError) Error() string { return e.msg }

// failingSource is a namedSource that can also be told to fail a poll.
type failingSource struct {
	namedSource
	fail chan error
}

func (s *failingSource) Poll(ctx context.Context, c []byte) (*source.Batch, error) {
	select {
	case err := <-s.fail:
		return nil, err
	case b := <-s.batches:
		b.Source = s.name
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
