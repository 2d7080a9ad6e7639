package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scmon/scmon/exporter"
	"github.com/scmon/scmon/job"
	"github.com/scmon/scmon/jobstore"
	"github.com/scmon/scmon/source"
)

// TestDatabaseLockLost: the daemon's PostgreSQL writer lock is lost while
// it runs (its session ended with pg_terminate_backend, as a server
// restart or a killed connection would end it) and another writer takes
// it. The daemon finds it on its timer: it is no longer ready, says why,
// writes nothing (a batch polled then is not stored, and fails its
// source), and takes the lock again once it is free; the batch is then
// stored. A real server: SCMON_TEST_POSTGRES_DSN.
func TestDatabaseLockLost(t *testing.T) {
	dsn := postgresSchema(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "scmon.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+dir+"\nstore: "+dsn+"\nsources:\n  - kind: dump\n    format: slurm-sacct\n    paths: [unused.psv]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, raw, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &scriptedSource{batches: make(chan *source.Batch)}
	d, err := New(cfg, raw, Options{ConfigPath: path, LockCheck: 50 * time.Millisecond,
		Sources: func(*Config, *Runtime) ([]source.JobSource, []source.NodeSource, error) {
			return []source.JobSource{src}, nil, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, d)
	ctx := context.Background()
	start := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	batch := func(id string, n int) *source.Batch {
		return &source.Batch{Source: "scripted", Records: []*job.Record{{Cluster: "c", JobID: id, RawID: id, Partition: "cpu",
			State: job.StateCompleted, Submit: start, Start: start, End: start.Add(time.Minute), Cores: 4, Nodes: 1}},
			Complete: start.Add(time.Duration(n) * time.Minute), Cursor: []byte(id), More: true}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	stored := func() []string {
		t.Helper()
		st, err := jobstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var ids []string
		if err := st.Scan(ctx, func(r *job.Record, _ job.Decision) error { ids = append(ids, r.JobID); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	// writable is scmon_store_writable as a scrape of the last snapshot
	// gives it.
	reg := prometheus.NewRegistry()
	reg.MustRegister(exporter.New(d.Snapshot, exporter.Options{}))
	writable := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "scmon_store_writable" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("scmon_store_writable not emitted")
		return -1
	}
	failures := func() float64 {
		d.mu.RLock()
		defer d.mu.RUnlock()
		if h := d.health["scripted"]; h != nil {
			return h.failures
		}
		return 0
	}

	src.batches <- batch("1", 2)
	waitFor("ready after the first batch", func() bool { ok, _ := d.Ready(); return ok })
	if got := stored(); len(got) != 1 {
		t.Fatalf("stored %v after the first batch, want job 1", got)
	}
	if w := writable(); w != 1 {
		t.Errorf("scmon_store_writable %v while the lock is held, want 1", w)
	}

	// End the daemon's lock session and take the lock as another daemon
	// would, before this one takes it back (it may win the race: then
	// again).
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var other *jobstore.WriterLock
	for try := 0; other == nil; try++ {
		if try == 20 {
			t.Fatal("the daemon's lock could not be taken from it")
		}
		var pid int
		if err := admin.QueryRow(ctx, `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid = hashtext(current_schema())::oid
			AND a.application_name LIKE 'scmon pid %'`).Scan(&pid); err != nil {
			t.Fatalf("the daemon's lock session: %v", err)
		}
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			l, err := jobstore.LockPostgres(ctx, dsn)
			if err == nil {
				other = l
				break
			}
			if !errors.Is(err, jobstore.ErrLocked) {
				t.Fatal(err)
			}
		}
	}
	defer other.Release()
	waitFor("not ready once the lock is lost", func() bool { ok, _ := d.Ready(); return !ok })
	if _, why := d.Ready(); !strings.Contains(why, "writer lock lost") || !strings.Contains(why, "in use by another scmon") {
		t.Errorf("not ready because %q; want the lock lost and its holder", why)
	}
	waitFor("scmon_store_writable 0", func() bool { return writable() == 0 })
	// A batch polled now is not written.
	before := failures()
	src.batches <- batch("2", 3)
	waitFor("the batch to fail", func() bool { return failures() > before })
	if got := stored(); len(got) != 1 {
		t.Errorf("stored %v while the lock was lost, want job 1 alone", got)
	}
	d.mu.RLock()
	lastErr := d.health["scripted"].lastError
	d.mu.RUnlock()
	if !strings.Contains(lastErr, "writer lock lost") {
		t.Errorf("the source's last error %q does not say the lock was lost", lastErr)
	}

	// The other writer goes: the daemon takes the lock again, is ready,
	// and writes (the source polls the batch again from its cursor).
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	waitFor("ready once the lock is free", func() bool { ok, _ := d.Ready(); return ok })
	waitFor("scmon_store_writable 1 again", func() bool { return writable() == 1 })
	src.batches <- batch("2", 3)
	waitFor("job 2 stored", func() bool { return len(stored()) == 2 })
}
