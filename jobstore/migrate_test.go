package jobstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scmon/scmon/job"
)

// v1Insert writes a row of schema version 1, with every column the first
// release wrote.
const v1Insert = `INSERT INTO jobs (cluster, job_id, raw_id, start_time, end_time, submit_time,
	partition_name, account, user_name, class, state, cores, nodes, accelerators, source, line, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// openOld opens the database behind dsn directly, below the store, and
// begins the transaction that writes an older schema's store into it.
func openOld(t *testing.T, b backend, dsn string) (*dialect, *sql.DB, *sql.Tx) {
	t.Helper()
	d, driver, name := sqliteDialect, "sqlite", strings.TrimPrefix(dsn, "sqlite://")
	if b.name == "postgres" {
		d, driver, name = postgresDialect, "pgx", dsn
	}
	if b.name == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return d, db, tx
}

// makeV1Store builds, behind dsn, a store as the first release left it:
// schema version 1 (its own SQL, as released) holding recs.
func makeV1Store(t *testing.T, b backend, dsn string, recs []*job.Record, decs []job.Decision) {
	t.Helper()
	ctx := context.Background()
	d, db, tx := openOld(t, b, dsn)
	defer db.Close()
	defer tx.Rollback()
	for _, stmt := range []string{createMigrationsTable, d.migration(migrations[0]), d.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)")} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		submit, _ := unixSeconds(r.Submit, "submit")
		_, err = tx.ExecContext(ctx, d.rebind(v1Insert), w.cluster, w.jobID, w.rawID, w.start, nullable(w.end),
			nullable(submit), cleanText(r.Partition), cleanText(r.Account), cleanText(r.User), decs[i].Class.String(),
			r.State.String(), r.Cores, r.Nodes, r.AccelCount(""), w.source, w.line, w.doc)
		if err != nil {
			t.Fatalf("insert %s: %v", r.JobID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, 0)"), "sacct", []byte("v1-cursor")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromV1 opens a store of schema version 1 and checks that
// everything it held reads back the same at the current version, that
// queries and writes work, and that the dropped columns are gone.
func TestMigrateFromV1(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		recs, decs := sampleRecords()
		running := recs[1]
		makeV1Store(t, b, dsn, recs, decs)

		s := openStore(t, dsn)
		ctx := context.Background()
		checkMigrated(t, s, recs, decs, "v1-cursor")
		// The running run is found through the new partial index, and
		// the filters work on the migrated rows.
		rows, err := s.Jobs(ctx, JobQuery{From: t0.AddDate(0, 1, 0), Accounts: []string{"ai-lab"}})
		if err != nil || len(rows) != 1 || rows[0].JobID != running.JobID {
			t.Errorf("Jobs(running, ai-lab) after migration = %d rows, %v", len(rows), err)
		}
		// A stored run re-read unchanged stays unchanged; its completion
		// is an update.
		if res := mustApply(t, s, Batch{Records: recs[:1], Decisions: decs[:1]}); res != (ApplyResult{Unchanged: 1}) {
			t.Errorf("re-apply after migration = %+v", res)
		}
		done := *running
		done.End, done.State = running.Start.Add(1e9*3600), job.StateCompleted
		if res := mustApply(t, s, Batch{Records: []*job.Record{&done}, Decisions: decs[1:2]}); res != (ApplyResult{Updated: 1}) {
			t.Errorf("completion after migration = %+v", res)
		}
		// The dropped columns are gone.
		if b.name == "sqlite" {
			var n int
			db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite://"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.QueryRow("SELECT count(*) FROM pragma_table_info('jobs') WHERE name IN ('account', 'class', 'cores')").Scan(&n); err != nil || n != 0 {
				t.Errorf("%d dropped columns still there (%v)", n, err)
			}
		}
	})
}

// makeV2Store builds, behind dsn, a store as schema version 2 left it:
// the first recs stored plain (before the store had a dictionary), the
// rest compressed against a dictionary, and one run stored twice over
// (its id order kept).
func makeV2Store(t *testing.T, b backend, dsn string, recs []*job.Record, decs []job.Decision) {
	t.Helper()
	ctx := context.Background()
	d, db, tx := openOld(t, b, dsn)
	defer db.Close()
	defer tx.Rollback()
	stmts := []string{createMigrationsTable, d.migration(migrations[0]), d.migration(migrations[1]),
		"INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)", "INSERT INTO schema_migrations (version, applied_at) VALUES (2, 0)"}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	var dict []byte
	for i, r := range recs[:len(recs)/2] {
		w, _, _ := encodeRow(r, decs[i], nil)
		dict = append(dict, w.doc[1:]...)
	}
	if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO dictionaries (id, data) VALUES (1, ?)"), dict); err != nil {
		t.Fatal(err)
	}
	enc := &lzEncoder{d: newLZDict(dict)}
	for i, r := range recs {
		w, _, err := encodeRow(r, decs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(recs)/2 {
			w.doc = compressDoc(nil, enc, 1, w.doc)
		}
		_, err = tx.ExecContext(ctx, d.rebind(`INSERT INTO jobs (cluster, job_id, raw_id, start_time, end_time, source, line, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), w.cluster, w.jobID, w.rawID, w.start, nullable(w.end), w.source, w.line, w.doc)
		if err != nil {
			t.Fatalf("insert %s: %v", r.JobID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, 0)"), "sacct", []byte("v2-cursor")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromV2 opens a store of schema version 2, with plain and
// compressed documents, and checks that its records read back the same,
// in their order, from blocks; that re-reads are unchanged and updates
// replace; and that the tables of version 2 are gone.
func TestMigrateFromV2(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		recs, decs := synthBatch(0, blockMaxRecords+300) // two blocks
		sample, sampleDecs := sampleRecords()
		recs, decs = append(recs, sample...), append(decs, sampleDecs...)
		makeV2Store(t, b, dsn, recs, decs)

		s := openStore(t, dsn)
		ctx := context.Background()
		checkMigrated(t, s, recs, decs, "v2-cursor")
		if res := mustApply(t, s, Batch{Records: recs[:100], Decisions: decs[:100]}); res != (ApplyResult{Unchanged: 100}) {
			t.Errorf("re-apply after migration = %+v", res)
		}
		running := sample[1]
		done := *running
		done.End, done.State = running.Start.Add(time.Hour), job.StateCompleted
		if res := mustApply(t, s, Batch{Records: []*job.Record{&done}, Decisions: sampleDecs[1:2]}); res != (ApplyResult{Updated: 1}) {
			t.Errorf("completion after migration = %+v", res)
		}
		rows, err := s.Jobs(ctx, JobQuery{Clusters: []string{"sample"}, Accounts: []string{"ai-lab"}, Users: []string{"bob"}})
		if err != nil || len(rows) != 1 || !rows[0].End.Equal(done.End) {
			t.Errorf("Jobs after the completion = %+v, %v", rows, err)
		}
		for _, table := range []string{"jobs", "dictionaries", "meta"} {
			var n int
			q := "SELECT count(*) FROM sqlite_master WHERE name = ?"
			if b.name == "postgres" {
				q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
			}
			if err := s.(*sqlStore).db.QueryRowContext(ctx, q, table).Scan(&n); err != nil || n != 0 {
				t.Errorf("table %s after migration: %d, %v", table, n, err)
			}
		}
	})
}

// checkMigrated checks a store just migrated: the current schema version,
// every record and decision of recs and decs back in order, and the
// source cursor cursor.
func checkMigrated(t *testing.T, s Store, recs []*job.Record, decs []job.Decision, cursor string) {
	t.Helper()
	ctx := context.Background()
	st, err := s.Stats(ctx)
	if err != nil || st.SchemaVersion != schemaVersion || st.Records != int64(len(recs)) {
		t.Fatalf("Stats after migration = %+v, %v", st, err)
	}
	got := scanAll(t, s)
	if len(got) != len(recs) {
		t.Fatalf("%d records after migration, want %d", len(got), len(recs))
	}
	for i, r := range recs {
		if d := diff(got[i].Rec, expected(r)); d != "" {
			t.Errorf("record %d (%s) after migration:%s", i, r.JobID, d)
		}
		if !reflect.DeepEqual(got[i].Dec, decs[i]) {
			t.Errorf("record %d decision = %+v, want %+v", i, got[i].Dec, decs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if c, ok, err := s.Cursor(ctx, "sacct"); err != nil || !ok || string(c) != cursor {
		t.Errorf("Cursor after migration = %q, %v, %v", c, ok, err)
	}
}
