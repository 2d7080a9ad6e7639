package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmon/scmon/job"
)

// dialect is what differs between the two databases behind the one
// database/sql implementation (sqlStore): how a placeholder is written,
// the schema's types (each migration is written once per dialect), how a
// migration is serialised, how big the store is on disk, and whether this
// process must serialise its own writers.
type dialect struct {
	// name is Stats.Backend: "sqlite" or "postgres".
	name string
	// numbered placeholders ($1, $2, ...) instead of "?".
	numbered bool
	// migration returns the SQL of step m.
	migration func(m migration) string
	// migrationLock, when not empty, runs first in the migration
	// transaction, so that instances starting together migrate once.
	migrationLock string
	// serialWrites makes the store run one write transaction at a time:
	// SQLite runs them one at a time anyway, and waiting on a mutex is
	// cheaper than its busy-retry loop.
	serialWrites bool
	// diskBytes returns the space the store takes on disk.
	diskBytes func(ctx context.Context, s *sqlStore) (int64, error)
	// explain adds context to an error of the migration's first statement
	// (such as a schema named in search_path that does not exist).
	explain func(err error) error
	// inserted is the expression an upsert returns per row written: true
	// for a new run. Its one parameter is the largest id before the batch.
	// Empty, the upsert returns nothing and counts by the rows it changed
	// and the ids it took (countByIDs).
	inserted string
	// arrays passes a batch's rows as one array per column, unnested by
	// the upsert (PostgreSQL): one statement of nine parameters per batch,
	// where a list of values takes eight parameters per row.
	arrays string
}

// rebind rewrites the "?" placeholders of query for d. The store's queries
// hold no "?" in literals.
func (d *dialect) rebind(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// sqlStore is the Store of both backends, through database/sql: SQLite
// with modernc.org/sqlite, PostgreSQL with pgx's database/sql driver.
type sqlStore struct {
	db       *sql.DB
	d        *dialect
	location string
	// mu serialises write transactions when the dialect asks for it.
	mu sync.Mutex
	// chunk is how many records Reclassify reads at a time.
	chunk int
	bound durationBound
	hooks testHooks
	// onClose releases what the dialect opened besides db.
	onClose func() error
	dicts   dicts
}

// testHooks let tests interrupt Apply at a chosen point.
type testHooks struct {
	// beforeCursor runs after a batch's records are written and before its
	// cursor is.
	beforeCursor func()
}

// newSQLStore wraps db, migrates its schema and returns the store; it
// closes db on error.
func newSQLStore(ctx context.Context, db *sql.DB, d *dialect, location string) (*sqlStore, error) {
	s := &sqlStore{db: db, d: d, location: location, chunk: reclassifyChunk}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", location, err)
	}
	if err := s.loadDicts(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", location, err)
	}
	return s, nil
}

// lockWrites takes the write mutex if the dialect serialises writers.
func (s *sqlStore) lockWrites() func() {
	if !s.d.serialWrites {
		return func() {}
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// migrate brings the schema to schemaVersion in one transaction.
func (s *sqlStore) migrate(ctx context.Context) error {
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		if s.d.explain != nil {
			err = s.d.explain(err)
		}
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := checkVersion(have); err != nil {
		return err
	}
	for v := have + 1; v <= schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, s.d.migration(migrations[v-1])); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"), v, time.Now().Unix()); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// upsertRows is how many rows one upsert statement writes: its parameters
// stay far below both databases' limits (32,766 and 65,535), and larger
// statements gain nothing.
const upsertRows = 500

// upsertStatement returns the statement that upserts n rows. A run
// already stored is updated only when its document differs: equal
// documents mean an unchanged run. The statement returns one row per run
// inserted or updated, with whether it was inserted (dialect.inserted).
func (s *sqlStore) upsertStatement(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO jobs (" + writeColumns + ") ")
	if s.d.arrays != "" {
		b.WriteString(s.d.arrays)
	} else {
		b.WriteString("VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", writeColumnCount), ", ") + ")"
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
		}
	}
	b.WriteString(` ON CONFLICT (cluster, job_id, raw_id, start_time) DO UPDATE SET
	end_time = excluded.end_time, source = excluded.source, line = excluded.line, doc = excluded.doc
WHERE jobs.doc <> excluded.doc`)
	if s.d.inserted != "" {
		b.WriteString("\nRETURNING " + s.d.inserted)
	}
	return s.d.rebind(b.String())
}

// upsert writes p's rows in tx and counts what it did.
func (s *sqlStore) upsert(ctx context.Context, tx *sql.Tx, p *preparedBatch, res *ApplyResult) error {
	var maxID int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM jobs").Scan(&maxID); err != nil {
		return fmt.Errorf("read last id: %w", err)
	}
	var stmt *sql.Stmt
	stmtRows := 0
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	args := make([]any, 0, min(len(p.rows), upsertRows)*writeColumnCount+1)
	per := upsertRows
	if s.d.arrays != "" {
		per = len(p.rows)
	}
	for first := 0; first < len(p.rows); first += per {
		chunk := p.rows[first:min(first+per, len(p.rows))]
		if stmtRows != len(chunk) {
			if stmt != nil {
				stmt.Close()
			}
			var err error
			if stmt, err = tx.PrepareContext(ctx, s.upsertStatement(len(chunk))); err != nil {
				return fmt.Errorf("prepare upsert: %w", err)
			}
			stmtRows = len(chunk)
		}
		args = args[:0]
		if s.d.arrays != "" {
			args = columnArrays(args, chunk)
		} else {
			for i := range chunk {
				args = chunk[i].appendArgs(args)
			}
		}
		if s.d.inserted == "" {
			r, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("upsert records: %w", err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("upsert records: %w", err)
			}
			res.Updated += int(n) // less the inserted ones, below
			res.Unchanged += len(chunk) - int(n)
			continue
		}
		args = append(args, maxID)
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("upsert records: %w", err)
		}
		written := 0
		for rows.Next() {
			var inserted bool
			if err := rows.Scan(&inserted); err != nil {
				rows.Close()
				return fmt.Errorf("upsert records: %w", err)
			}
			written++
			if inserted {
				res.Inserted++
			} else {
				res.Updated++
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("upsert records: %w", err)
		}
		res.Unchanged += len(chunk) - written
	}
	if s.d.inserted == "" {
		return s.countByIDs(ctx, tx, maxID, res)
	}
	return nil
}

// countByIDs splits the rows an upsert changed (counted as Updated) into
// inserted and updated ones, for a database whose writers take turns and
// that gives a new row the largest id plus one (SQLite, whose rows are
// never deleted): the ids taken are the runs inserted.
func (s *sqlStore) countByIDs(ctx context.Context, tx *sql.Tx, before int64, res *ApplyResult) error {
	var after int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM jobs").Scan(&after); err != nil {
		return fmt.Errorf("read last id: %w", err)
	}
	res.Inserted = int(after - before)
	res.Updated -= res.Inserted
	if res.Updated < 0 {
		return fmt.Errorf("upsert took %d ids but changed %d rows", res.Inserted, res.Updated+res.Inserted)
	}
	return nil
}

// columnArrays appends the rows' values as one slice per column, in
// writeColumns order.
func columnArrays(args []any, rows []row) []any {
	n := len(rows)
	cluster, jobID, rawID, source := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	start, line := make([]int64, n), make([]int64, n)
	end := make([]*int64, n)
	doc := make([][]byte, n)
	for i := range rows {
		w := &rows[i]
		cluster[i], jobID[i], rawID[i], start[i] = w.cluster, w.jobID, w.rawID, w.start
		if w.end != 0 {
			end[i] = &w.end
		}
		source[i], line[i], doc[i] = w.source, w.line, w.doc
	}
	return append(args, cluster, jobID, rawID, start, end, source, line, doc)
}

// appendArgs appends the row's values in writeColumns order.
func (w *row) appendArgs(args []any) []any {
	return append(args, w.cluster, w.jobID, w.rawID, w.start, nullable(w.end), w.source, w.line, w.doc)
}

// The statements of Apply besides the upsert.
const (
	setCursor = `INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?)
ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
	setMaxDuration = `INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > meta.value THEN excluded.value ELSE meta.value END`
)

// applyAttempts bounds the retries of a batch that the database aborted
// to break a deadlock: two PostgreSQL instances writing overlapping runs in
// different orders.
const applyAttempts = 3

// Apply implements Store.
func (s *sqlStore) Apply(ctx context.Context, b Batch) (ApplyResult, error) {
	p, err := prepareBatch(b)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
	if len(p.rows) > 0 {
		if err := s.ensureDict(ctx, p); err != nil {
			return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
		}
		s.compressRows(p)
	}
	for attempt := 1; ; attempt++ {
		res, err := s.apply(ctx, b.Source, p)
		if err == nil {
			return res, nil
		}
		if attempt < applyAttempts && retryable(err) {
			continue
		}
		return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
}

func (s *sqlStore) apply(ctx context.Context, source string, p *preparedBatch) (ApplyResult, error) {
	res := ApplyResult{Merged: p.merged}
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if len(p.rows) > 0 {
		if err := s.upsert(ctx, tx, p, &res); err != nil {
			return res, err
		}
	}
	if s.bound.needs(p.maxDuration) {
		if _, err := tx.ExecContext(ctx, s.d.rebind(setMaxDuration), maxDurationName, p.maxDuration); err != nil {
			return res, fmt.Errorf("record longest run: %w", err)
		}
	}
	if s.hooks.beforeCursor != nil {
		s.hooks.beforeCursor()
	}
	if source != "" {
		if _, err := tx.ExecContext(ctx, s.d.rebind(setCursor), source, p.cursor, time.Now().Unix()); err != nil {
			return res, fmt.Errorf("set cursor: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	s.bound.reached(p.maxDuration)
	return res, nil
}

// Cursor implements Store.
func (s *sqlStore) Cursor(ctx context.Context, source string) ([]byte, bool, error) {
	var c []byte
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT cursor FROM cursors WHERE source = ?"), source).Scan(&c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read cursor of %q: %w", source, err)
	}
	if c == nil {
		c = []byte{}
	}
	return c, true, nil
}

// rowReader holds the scan destinations of readColumns, reused from row
// to row.
type rowReader struct {
	source, doc sql.RawBytes
	line        int64
	dests       []any
	dc          *decoder
}

// newRowReader returns a reader decoding with the store's dictionaries.
func (s *sqlStore) newRowReader() *rowReader {
	dc := newDecoder()
	dc.dict = s.dict
	return &rowReader{dc: dc}
}

// scan reads the current row of rows (which selects readColumns, after
// the columns of lead if any) and decodes it into r and d. lead must be the
// same on every call.
func (x *rowReader) scan(rows *sql.Rows, r *job.Record, d *job.Decision, lead ...any) error {
	if x.dests == nil {
		x.dests = append(lead, &x.source, &x.line, &x.doc)
	}
	if err := rows.Scan(x.dests...); err != nil {
		return err
	}
	if err := x.dc.decode(x.source, x.line, x.doc, r, d); err != nil {
		return fmt.Errorf("record read from %s:%d: %w", x.source, x.line, err)
	}
	return nil
}

// Scan implements Store. One SELECT reads one snapshot on both databases
// (a read transaction in SQLite's WAL mode): writers go on while it runs
// and it sees none of their commits.
func (s *sqlStore) Scan(ctx context.Context, fn func(*job.Record, job.Decision) error) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+readColumns+" FROM jobs ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer rows.Close()
	x := s.newRowReader()
	var rec job.Record
	var d job.Decision
	for rows.Next() {
		if err := x.scan(rows, &rec, &d); err != nil {
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
func (s *sqlStore) Jobs(ctx context.Context, q JobQuery) ([]JobRow, error) {
	var maxDuration int64
	if !q.From.IsZero() {
		err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT coalesce((SELECT value FROM meta WHERE name = ?), 0)"), maxDurationName).Scan(&maxDuration)
		if err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
	}
	query, args, filter, err := jobsQuery(q, s.d, maxDuration)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	skip := 0
	if !filter.empty() {
		skip = q.Offset // the SQL applied it otherwise
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	defer rows.Close()
	x := s.newRowReader()
	var out []JobRow
	for len(out) < limit && rows.Next() {
		out = append(out, JobRow{})
		jr := &out[len(out)-1]
		if err := x.scan(rows, &jr.Record, &jr.Decision); err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
		switch {
		case !filter.match(&jr.Record, jr.Decision):
			out = out[:len(out)-1]
		case skip > 0:
			skip--
			out = out[:len(out)-1]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	return out, nil
}

// reclassifyChunk is how many records Reclassify reads before writing the
// changed ones: the table is never read and written in one statement.
const reclassifyChunk = 10_000

// reclassified is a stored run whose decision changed.
type reclassified struct {
	id  int64
	doc []byte
}

// Reclassify implements Store.
func (s *sqlStore) Reclassify(ctx context.Context, classifyFn func(*job.Record) job.Decision) (int, error) {
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reclassify: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	update, err := tx.PrepareContext(ctx, s.d.rebind("UPDATE jobs SET doc = ? WHERE id = ?"))
	if err != nil {
		return 0, fmt.Errorf("reclassify: prepare: %w", err)
	}
	defer update.Close()
	read := s.d.rebind("SELECT id, " + readColumns + " FROM jobs WHERE id > ? ORDER BY id LIMIT ?")
	enc, encID := s.encoder()
	x := s.newRowReader()
	var rec job.Record
	var d job.Decision
	changed := 0
	var last int64
	for {
		rows, err := tx.QueryContext(ctx, read, last, s.chunk)
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		var todo []reclassified
		n := 0
		for rows.Next() {
			n++
			err := x.scan(rows, &rec, &d, &last)
			var u reclassified
			var ok bool
			if err == nil {
				u.doc, ok, err = redecide(&rec, d, classifyFn)
				if ok && enc != nil {
					u.doc = compressDoc(nil, enc, encID, u.doc)
				}
			}
			if err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: %w", err)
			}
			if ok {
				u.id = last
				todo = append(todo, u)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		for _, u := range todo {
			if _, err := update.ExecContext(ctx, u.doc, u.id); err != nil {
				return 0, fmt.Errorf("reclassify: update: %w", err)
			}
		}
		changed += len(todo)
		if n < s.chunk {
			break
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("reclassify: commit: %w", err)
	}
	return changed, nil
}

// Stats implements Store.
func (s *sqlStore) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Backend: s.d.name, Location: s.location}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM jobs").Scan(&st.Records); err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&st.SchemaVersion); err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	b, err := s.d.diskBytes(ctx, s)
	if err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	st.Bytes = b
	return st, nil
}

// Close implements Store.
func (s *sqlStore) Close() error {
	err := s.db.Close()
	if s.onClose != nil {
		err = errors.Join(err, s.onClose())
	}
	if err != nil {
		return fmt.Errorf("close job store %s: %w", s.location, err)
	}
	return nil
}
