package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scmon/scmon/classify"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/jobstore"
	"github.com/scmon/scmon/snapshot"
	"github.com/scmon/scmon/source"
)

// hostileRecord holds 70,000 distinct generic resources: enough to fill
// the engine's device table if it were let in.
func hostileRecord(id string, start time.Time) *job.Record {
	r := &job.Record{Cluster: "c", JobID: id, Partition: "cpu", State: job.StateCompleted,
		Submit: start, Start: start, End: start.Add(time.Hour), Cores: 1, Nodes: 1, NodeList: "cn003"}
	for i := range 70_000 {
		r.Accels = append(r.Accels, job.Accel{Name: "gpu", Type: fmt.Sprintf("t%05d", i), Count: 1})
	}
	return r
}

// TestStoredRecordQuarantined: a job store (real SQLite) that already
// holds a record the engine cannot load does not stop the daemon: the
// record is quarantined and counted, the others are counted, node
// occupancy counts the shared node once, and the same record arriving
// from a source is refused before it is stored.
func TestStoredRecordQuarantined(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	st, err := jobstore.Open(ctx, "sqlite://"+filepath.Join(dir, "scmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	good := []*job.Record{
		{Cluster: "c", JobID: "1", Partition: "cpu", State: job.StateCompleted, Submit: t0, Start: t0, End: t0.Add(time.Hour), Cores: 8, Nodes: 2, NodeList: "cn[001-002]"},
		// Shares cn002 with job 1 for its first half hour.
		{Cluster: "c", JobID: "2", Partition: "cpu", State: job.StateCompleted, Submit: t0, Start: t0.Add(30 * time.Minute), End: t0.Add(2 * time.Hour), Cores: 4, Nodes: 1, NodeList: "cn002"},
	}
	recs := append(good, hostileRecord("3", t0))
	decs := make([]classify.Decision, len(recs))
	if _, err := st.Apply(ctx, jobstore.Batch{Records: recs, Decisions: decs}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

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
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	defer stop()

	src.batches <- &source.Batch{Source: "scripted", Records: []*job.Record{hostileRecord("4", t0)},
		Complete: t0.Add(3 * time.Hour), Cursor: []byte("1")}
	var snap *snapshot.Snapshot
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if s := d.Snapshot(); s != nil && len(s.Sources) == 1 && s.Sources[0].PollCount == 1 && len(s.Allocated) > 0 {
			snap = s
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if snap == nil {
		t.Fatal("the daemon published no figures")
	}
	if snap.Quarantined != 1 {
		t.Errorf("quarantined %v, want 1 (the stored record)", snap.Quarantined)
	}
	if got := snap.Sources[0].Records["skipped_bad_tres"]; got != 1 {
		t.Errorf("skipped_bad_tres = %v, want 1 (the polled record refused)", got)
	}
	var cores, nodes float64
	for _, a := range snap.Allocated {
		cores += a.CoreSeconds
		nodes += a.NodeSeconds
	}
	if want := float64(8*3600 + 4*5400); cores != want {
		t.Errorf("core-seconds %v, want %v", cores, want)
	}
	// Charged: 2 nodes x 1 h + 1 node x 1.5 h; occupied: cn001 1 h, cn002 2 h.
	if want := float64(2*3600 + 5400); nodes != want {
		t.Errorf("allocated node-seconds %v, want %v", nodes, want)
	}
	if len(snap.Occupied) != 1 || snap.Occupied[0].NodeSeconds != 3*3600 {
		t.Errorf("occupied %+v, want 10800 node-seconds for cluster c", snap.Occupied)
	}
	stop()

	st, err = jobstore.Open(ctx, "sqlite://"+filepath.Join(dir, "scmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []string
	if err := st.Scan(ctx, func(r *job.Record, _ classify.Decision) error { ids = append(ids, r.JobID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 {
		t.Errorf("stored jobs %v, want 1, 2 and 3 (4 refused before the store)", ids)
	}
}
