package jobstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scmon/scmon/job"
)

// v1Insert writes a row of schema version 1, with every column the first
// release wrote.
const v1Insert = `INSERT INTO jobs (cluster, job_id, raw_id, start_time, end_time, submit_time,
	partition_name, account, user_name, class, state, cores, nodes, accelerators, source, line, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// makeV1Store builds, behind dsn, a store as the first release left it:
// schema version 1 (its own SQL, as released) holding recs.
func makeV1Store(t *testing.T, b backend, dsn string, recs []*job.Record, decs []job.Decision) {
	t.Helper()
	ctx := context.Background()
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
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
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
		if c, ok, err := s.Cursor(ctx, "sacct"); err != nil || !ok || string(c) != "v1-cursor" {
			t.Errorf("Cursor after migration = %q, %v, %v", c, ok, err)
		}
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
