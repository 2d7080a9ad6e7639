package jobstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scmon/scmon/job"
)

// pgStore is the PostgreSQL backend. Several scmon instances may share its
// database: Apply locks the runs it compares, migrations take an advisory
// lock, and a run written by two instances at once ends as one row.
type pgStore struct {
	pool     *pgxpool.Pool
	location string
	// chunk is how many records Reclassify reads at a time.
	chunk int
	bound durationBound
	hooks testHooks
}

// pgMigrationLock is the advisory lock key that serialises the migrations
// of instances starting together ("scmon" in ASCII).
const pgMigrationLock = 0x73636d6f6e

func openPostgres(ctx context.Context, dsn string) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors never include the password.
		return nil, fmt.Errorf("open job store: %w", err)
	}
	loc := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if sp := cfg.ConnConfig.RuntimeParams["search_path"]; sp != "" {
		loc += "?search_path=" + sp
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w", loc, err)
	}
	s := &pgStore{pool: pool, location: loc, chunk: reclassifyChunk}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open job store %s: %w", loc, err)
	}
	return s, nil
}

// migrate brings the schema to schemaVersion in one transaction, under an
// advisory lock so that instances starting together migrate once.
func (s *pgStore) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgMigrationLock)); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "3F000" { // invalid_schema_name
			return fmt.Errorf("create schema_migrations: %w (does the schema named in search_path exist?)", err)
		}
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := checkVersion(have); err != nil {
		return err
	}
	for v := have + 1; v <= schemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v-1].postgres); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", v, time.Now().Unix()); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// pgApply upserts a whole batch in one statement. The batch arrives as one
// array per column, unnested into the rows n. "old" locks the stored
// versions of the batch's runs and compares their documents with the new
// ones (a document is the whole record and decision: equal documents mean
// an unchanged run). "up" writes the runs that are new or changed, in batch
// order, so that new runs get their ids, and their place in Scan, in that
// order; PostgreSQL runs a data-modifying WITH clause to completion whether
// or not it is read. The statement returns how many of the batch's runs
// were stored already and how many of those are unchanged.
const pgApply = `WITH n AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[],
		$14::bigint[], $15::text[], $16::bigint[], $17::bytea[]) WITH ORDINALITY
	AS n(cluster, job_id, raw_id, start_time, end_time, submit_time, partition_name, account, user_name,
		class, state, cores, nodes, accelerators, source, line, doc, ord)
), old AS (
	SELECT j.cluster, j.job_id, j.raw_id, j.start_time,
		j.doc = n.doc AS same
	FROM n JOIN jobs j ON j.cluster = n.cluster AND j.job_id = n.job_id AND j.raw_id = n.raw_id AND j.start_time = n.start_time
	FOR UPDATE OF j
), up AS (
	INSERT INTO jobs (` + writeColumns + `)
	SELECT ` + writeColumns + ` FROM n WHERE NOT EXISTS (
		SELECT 1 FROM old WHERE old.same AND old.cluster = n.cluster AND old.job_id = n.job_id
			AND old.raw_id = n.raw_id AND old.start_time = n.start_time)
	ORDER BY n.ord
	ON CONFLICT (cluster, job_id, raw_id, start_time) DO UPDATE SET
		end_time = excluded.end_time, submit_time = excluded.submit_time,
		partition_name = excluded.partition_name, account = excluded.account, user_name = excluded.user_name,
		class = excluded.class, state = excluded.state, cores = excluded.cores, nodes = excluded.nodes,
		accelerators = excluded.accelerators, source = excluded.source, line = excluded.line, doc = excluded.doc
)
SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM old WHERE same)`

const (
	pgSetCursor = `INSERT INTO cursors (source, cursor, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
	pgSetMaxDuration = `INSERT INTO meta (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = greatest(meta.value, excluded.value)`
)

// columnArgs turns rows into the column arrays of pgApply.
func columnArgs(rows []row) []any {
	n := len(rows)
	var (
		cluster, jobID, rawID         = make([]string, n), make([]string, n), make([]string, n)
		start                         = make([]int64, n)
		end, submit                   = make([]*int64, n), make([]*int64, n)
		partition, account, user      = make([]string, n), make([]string, n), make([]string, n)
		class, state, source          = make([]string, n), make([]string, n), make([]string, n)
		cores, nodes, accels, lineNos = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		doc                           = make([][]byte, n)
	)
	for i := range rows {
		w := &rows[i]
		cluster[i], jobID[i], rawID[i], start[i] = w.cluster, w.jobID, w.rawID, w.start
		if w.end != 0 {
			end[i] = &w.end
		}
		if w.submit != 0 {
			submit[i] = &w.submit
		}
		partition[i], account[i], user[i] = w.partition, w.account, w.user
		class[i], state[i] = w.class, w.state
		cores[i], nodes[i], accels[i] = w.cores, w.nodes, w.accels
		source[i], lineNos[i], doc[i] = w.source, w.line, w.doc
	}
	return []any{cluster, jobID, rawID, start, end, submit, partition, account, user,
		class, state, cores, nodes, accels, source, lineNos, doc}
}

// Apply implements Store.
func (s *pgStore) Apply(ctx context.Context, b Batch) (ApplyResult, error) {
	p, err := prepareBatch(b)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
	for attempt := 1; ; attempt++ {
		res, err := s.apply(ctx, b.Source, p)
		if err == nil {
			return res, nil
		}
		if attempt < pgApplyAttempts && retryable(err) {
			continue
		}
		return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
}

// pgApplyAttempts bounds the retries of a batch that PostgreSQL aborted to
// break a deadlock: two instances writing overlapping runs in different
// orders.
const pgApplyAttempts = 3

// retryable reports whether err aborted a transaction that may succeed if
// run again (deadlock_detected, serialization_failure).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func (s *pgStore) apply(ctx context.Context, source string, p *preparedBatch) (ApplyResult, error) {
	res := ApplyResult{Merged: p.merged}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if len(p.rows) > 0 {
		var matched, same int
		if err := tx.QueryRow(ctx, pgApply, columnArgs(p.rows)...).Scan(&matched, &same); err != nil {
			return res, fmt.Errorf("upsert records: %w", err)
		}
		res.Inserted = len(p.rows) - matched
		res.Unchanged = same
		res.Updated = matched - same
	}
	if s.bound.needs(p.maxDuration) {
		if _, err := tx.Exec(ctx, pgSetMaxDuration, maxDurationName, p.maxDuration); err != nil {
			return res, fmt.Errorf("record longest run: %w", err)
		}
	}
	if s.hooks.beforeCursor != nil {
		s.hooks.beforeCursor()
	}
	if source != "" {
		if _, err := tx.Exec(ctx, pgSetCursor, source, p.cursor, time.Now().Unix()); err != nil {
			return res, fmt.Errorf("set cursor: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	s.bound.reached(p.maxDuration)
	return res, nil
}

// Cursor implements Store.
func (s *pgStore) Cursor(ctx context.Context, source string) ([]byte, bool, error) {
	var c []byte
	err := s.pool.QueryRow(ctx, "SELECT cursor FROM cursors WHERE source = $1", source).Scan(&c)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read cursor of %q: %w", source, err)
	}
	if c == nil {
		c = []byte{}
	}
	return c, true, nil
}

// pgRow reads rows of readColumns straight from the wire (RawValues),
// without pgx's per-value conversions, so that a scan of a million records
// allocates only the strings it keeps.
type pgRow struct{}

// scan decodes the current row of rows (which selects readColumns, after
// the bigint columns of lead if any) into r and d.
func (pgRow) scan(rows pgx.Rows, dc *decoder, r *job.Record, d *job.Decision, lead ...*int64) error {
	fds, vals := rows.FieldDescriptions(), rows.RawValues()
	if len(vals) != len(lead)+3 {
		return fmt.Errorf("read row: %d columns, want %d", len(vals), len(lead)+3)
	}
	var err error
	for i, p := range lead {
		if *p, err = pgInt(fds[i], vals[i]); err != nil {
			return err
		}
	}
	fds, vals = fds[len(lead):], vals[len(lead):]
	line, err := pgInt(fds[1], vals[1])
	if err != nil {
		return err
	}
	doc, err := pgBytea(fds[2], vals[2])
	if err != nil {
		return err
	}
	if err := dc.decode(vals[0], line, doc, r, d); err != nil {
		return fmt.Errorf("record read from %s:%d: %w", vals[0], line, err)
	}
	return nil
}

// pgInt decodes a bigint column in either wire format.
func pgInt(fd pgconn.FieldDescription, v []byte) (int64, error) {
	if fd.Format == pgx.BinaryFormatCode {
		if len(v) != 8 {
			return 0, fmt.Errorf("column %s: %d bytes for a bigint", fd.Name, len(v))
		}
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", fd.Name, err)
	}
	return n, nil
}

// pgBytea decodes a bytea column in either wire format.
func pgBytea(fd pgconn.FieldDescription, v []byte) ([]byte, error) {
	if fd.Format == pgx.BinaryFormatCode {
		return v, nil
	}
	hx, ok := strings.CutPrefix(string(v), `\x`)
	if !ok {
		return nil, fmt.Errorf("column %s: bytea not in hex format", fd.Name)
	}
	b, err := hex.DecodeString(hx)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", fd.Name, err)
	}
	return b, nil
}

// Scan implements Store. The rows stream from one query, which reads one
// snapshot.
func (s *pgStore) Scan(ctx context.Context, fn func(*job.Record, job.Decision) error) error {
	rows, err := s.pool.Query(ctx, "SELECT "+readColumns+" FROM jobs ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer rows.Close()
	dc, x := newDecoder(), pgRow{}
	var rec job.Record
	var d job.Decision
	for rows.Next() {
		if err := x.scan(rows, dc, &rec, &d); err != nil {
			return fmt.Errorf("scan jobs: %w", err)
		}
		if err := fn(&rec, d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	return nil
}

// Jobs implements Store.
func (s *pgStore) Jobs(ctx context.Context, q JobQuery) ([]JobRow, error) {
	var maxDuration int64
	if !q.From.IsZero() {
		err := s.pool.QueryRow(ctx, "SELECT coalesce((SELECT value FROM meta WHERE name = $1), 0)", maxDurationName).Scan(&maxDuration)
		if err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
	}
	query, args, err := jobsQuery(q, postgresDialect, maxDuration)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	defer rows.Close()
	dc, x := newDecoder(), pgRow{}
	var out []JobRow
	for rows.Next() {
		out = append(out, JobRow{})
		jr := &out[len(out)-1]
		if err := x.scan(rows, dc, &jr.Record, &jr.Decision); err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	return out, nil
}

// Reclassify implements Store.
func (s *pgStore) Reclassify(ctx context.Context, classifyFn func(*job.Record) job.Decision) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("reclassify: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	dc, x := newDecoder(), pgRow{}
	var rec job.Record
	var d job.Decision
	changed := 0
	var last int64
	for {
		rows, err := tx.Query(ctx, "SELECT id, "+readColumns+" FROM jobs WHERE id > $1 ORDER BY id LIMIT $2", last, s.chunk)
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		var ids []int64
		var classes []string
		var docs [][]byte
		n := 0
		for rows.Next() {
			n++
			err := x.scan(rows, dc, &rec, &d, &last)
			var class string
			var doc []byte
			var ok bool
			if err == nil {
				class, doc, ok, err = redecide(&rec, d, classifyFn)
			}
			if err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: %w", err)
			}
			if ok {
				ids, classes, docs = append(ids, last), append(classes, class), append(docs, doc)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE jobs SET class = u.class, doc = u.doc
FROM unnest($1::bigint[], $2::text[], $3::bytea[]) AS u(id, class, doc) WHERE jobs.id = u.id`, ids, classes, docs); err != nil {
				return 0, fmt.Errorf("reclassify: update: %w", err)
			}
		}
		changed += len(ids)
		if n < s.chunk {
			break
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("reclassify: commit: %w", err)
	}
	return changed, nil
}

// Stats implements Store.
func (s *pgStore) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Backend: "postgres", Location: s.location}
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM jobs), (SELECT max(version) FROM schema_migrations),
	pg_total_relation_size('jobs') + pg_total_relation_size('cursors') + pg_total_relation_size('schema_migrations')`).
		Scan(&st.Records, &st.SchemaVersion, &st.Bytes)
	if err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	return st, nil
}

// Close implements Store.
func (s *pgStore) Close() error {
	s.pool.Close()
	return nil
}
