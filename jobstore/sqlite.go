package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/scmon/scmon/job"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteSync is the default synchronous setting of the SQLite backend.
//
// NORMAL in WAL mode keeps the store's promise. A commit returns once its
// WAL frames are written to the file, and a killed process (kill -9, the
// OOM killer, a panic) cannot lose what the kernel's page cache holds:
// every committed batch and its cursor survive, and the next open replays
// the WAL (TestSQLiteCrash kills a writer at random points to check it).
// What NORMAL gives up is durability against a power loss or kernel crash:
// the batches committed since the last checkpoint (which fsyncs) may then
// roll back. They roll back whole, since SQLite in WAL mode stays
// consistent, and a batch's cursor is in the transaction of its records, so
// the store holds an earlier consistent pair of records and cursor: each
// source resumes from the older cursor and reads those records again.
// Nothing is lost or counted twice, so the fsync per commit that FULL costs
// buys nothing for sources that can re-read (sacct, log files). A site whose
// source cannot re-read (a log rotated away within seconds) can ask for
// FULL with "?synchronous=full".
const sqliteSync = "NORMAL"

// sqliteBusyTimeout is how long a writer waits for another process's write
// transaction before failing with SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

// sqliteCacheKiB is the page cache of each connection, sqliteScanCacheKiB
// that of a connection while it runs Scan (SQLite's default), and
// sqliteMaxConns the number of connections.
const (
	sqliteCacheKiB     = 32 << 10
	sqliteScanCacheKiB = 2000
	sqliteMaxConns     = 8
)

// sqliteOptions are the options of a SQLite data source name.
type sqliteOptions struct {
	synchronous string
}

// parseSQLiteDSN splits "sqlite://PATH?OPTIONS" or a plain path.
func parseSQLiteDSN(dsn string) (string, sqliteOptions, error) {
	opts := sqliteOptions{synchronous: sqliteSync}
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "sqlite://"), "?")
	if path == "" {
		return "", opts, fmt.Errorf("sqlite data source %q names no file", dsn)
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", opts, fmt.Errorf("sqlite data source options %q: %w", query, err)
	}
	for k, v := range values {
		switch k {
		case "synchronous":
			switch s := strings.ToUpper(v[len(v)-1]); s {
			case "NORMAL", "FULL":
				opts.synchronous = s
			default:
				return "", opts, fmt.Errorf("sqlite option synchronous=%s: want normal or full", v[len(v)-1])
			}
		default:
			return "", opts, fmt.Errorf("unknown sqlite option %q (known: synchronous)", k)
		}
	}
	return path, opts, nil
}

// sqliteStore is the embedded backend.
type sqliteStore struct {
	db   *sql.DB
	path string
	// mu serialises this process's write transactions, which SQLite runs
	// one at a time anyway: waiting on a mutex is cheaper than SQLite's
	// busy-retry loop. Other processes are held off by the busy timeout.
	mu sync.Mutex
	// chunk is how many records Reclassify reads at a time.
	chunk int
	bound durationBound
	hooks testHooks
}

// testHooks let tests interrupt Apply at a chosen point.
type testHooks struct {
	// beforeCursor runs after a batch's records are written and before its
	// cursor is.
	beforeCursor func()
}

func openSQLite(ctx context.Context, path string, opts sqliteOptions) (*sqliteStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open job store: create data directory: %w", err)
	}
	// Records name users and hold their command lines: create the file
	// readable by its owner and group only. SQLite gives its WAL and
	// shared-memory files the database file's permissions.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open job store: %w", err)
	}
	q := url.Values{}
	// busy_timeout first, so that the others wait for a concurrent opener.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+opts.synchronous+")")
	// Keep the WAL file from staying at its high-water mark after a large
	// import or Reclassify.
	q.Add("_pragma", "journal_size_limit(67108864)")
	// A 32 MiB page cache per connection (the default is 2 MiB) keeps the
	// unique index of a few million runs in memory: Apply's lookups then
	// make no system calls, which makes it 1.5 times faster at 200,000 runs.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -sqliteCacheKiB))
	// Write transactions take the write lock at BEGIN, so that two writers
	// never deadlock upgrading read locks.
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", abs+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open job store %s: %w", abs, err)
	}
	// Bounds the page caches (and file descriptors); callers beyond it
	// wait for a connection.
	db.SetMaxOpenConns(sqliteMaxConns)
	s := &sqliteStore{db: db, path: abs, chunk: reclassifyChunk}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", abs, err)
	}
	return s, nil
}

// migrate brings the schema to schemaVersion in one transaction.
func (s *sqliteStore) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
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
		if _, err := tx.ExecContext(ctx, migrations[v-1].sqlite); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", v, time.Now().Unix()); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// The statements of Apply. The lookup compares the stored document with
// the new one in SQL, so that an unchanged run costs no allocation.
const (
	sqliteLookup = `SELECT id, doc = ? FROM jobs WHERE cluster = ? AND job_id = ? AND raw_id = ? AND start_time = ?`
	sqliteInsert = `INSERT INTO jobs (` + writeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqliteUpdate = `UPDATE jobs SET end_time = ?, submit_time = ?, partition_name = ?, account = ?, user_name = ?,
	class = ?, state = ?, cores = ?, nodes = ?, accelerators = ?, source = ?, line = ?, doc = ? WHERE id = ?`
	sqliteSetCursor = `INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?)
ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
	sqliteSetMaxDuration = `INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`
)

// Apply implements Store.
func (s *sqliteStore) Apply(ctx context.Context, b Batch) (ApplyResult, error) {
	var res ApplyResult
	p, err := prepareBatch(b)
	if err != nil {
		return res, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
	res, err = s.apply(ctx, b.Source, p)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply batch of %q: %w", b.Source, err)
	}
	return res, nil
}

func (s *sqliteStore) apply(ctx context.Context, source string, p *preparedBatch) (ApplyResult, error) {
	res := ApplyResult{Merged: p.merged}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if len(p.rows) > 0 {
		lookup, err := tx.PrepareContext(ctx, sqliteLookup)
		if err != nil {
			return res, fmt.Errorf("prepare lookup: %w", err)
		}
		defer lookup.Close()
		insert, err := tx.PrepareContext(ctx, sqliteInsert)
		if err != nil {
			return res, fmt.Errorf("prepare insert: %w", err)
		}
		defer insert.Close()
		update, err := tx.PrepareContext(ctx, sqliteUpdate)
		if err != nil {
			return res, fmt.Errorf("prepare update: %w", err)
		}
		defer update.Close()
		for i := range p.rows {
			w := &p.rows[i]
			var id int64
			var same bool
			err := lookup.QueryRowContext(ctx, w.doc, w.cluster, w.jobID, w.rawID, w.start).Scan(&id, &same)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := insert.ExecContext(ctx, w.cluster, w.jobID, w.rawID, w.start, nullable(w.end), nullable(w.submit),
					w.partition, w.account, w.user, w.class, w.state, w.cores, w.nodes, w.accels, w.source, w.line, w.doc); err != nil {
					return res, fmt.Errorf("insert %s/%s/%s@%d: %w", w.cluster, w.jobID, w.rawID, w.start, err)
				}
				res.Inserted++
			case err != nil:
				return res, fmt.Errorf("look up %s/%s/%s@%d: %w", w.cluster, w.jobID, w.rawID, w.start, err)
			case same:
				res.Unchanged++
			default:
				if _, err := update.ExecContext(ctx, nullable(w.end), nullable(w.submit), w.partition, w.account, w.user,
					w.class, w.state, w.cores, w.nodes, w.accels, w.source, w.line, w.doc, id); err != nil {
					return res, fmt.Errorf("update %s/%s/%s@%d: %w", w.cluster, w.jobID, w.rawID, w.start, err)
				}
				res.Updated++
			}
		}
	}
	if s.bound.needs(p.maxDuration) {
		if _, err := tx.ExecContext(ctx, sqliteSetMaxDuration, maxDurationName, p.maxDuration); err != nil {
			return res, fmt.Errorf("record longest run: %w", err)
		}
	}
	if s.hooks.beforeCursor != nil {
		s.hooks.beforeCursor()
	}
	if source != "" {
		if _, err := tx.ExecContext(ctx, sqliteSetCursor, source, p.cursor, time.Now().Unix()); err != nil {
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
func (s *sqliteStore) Cursor(ctx context.Context, source string) ([]byte, bool, error) {
	var c []byte
	err := s.db.QueryRowContext(ctx, "SELECT cursor FROM cursors WHERE source = ?", source).Scan(&c)
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

// sqliteRow holds the scan destinations of readColumns, reused from row
// to row.
type sqliteRow struct {
	source, doc sql.RawBytes
	line        int64
	dests       []any
}

// scan reads the current row of rows (which selects readColumns, after
// the columns of lead if any) and decodes it into r and d. lead must be the
// same on every call.
func (x *sqliteRow) scan(rows *sql.Rows, dc *decoder, r *job.Record, d *job.Decision, lead ...any) error {
	if x.dests == nil {
		x.dests = append(lead, &x.source, &x.line, &x.doc)
	}
	if err := rows.Scan(x.dests...); err != nil {
		return err
	}
	if err := dc.decode(x.source, x.line, x.doc, r, d); err != nil {
		return fmt.Errorf("record read from %s:%d: %w", x.source, x.line, err)
	}
	return nil
}

// Scan implements Store. One SELECT is one read transaction in WAL mode:
// writers go on while it runs and it sees none of their commits.
func (s *sqliteStore) Scan(ctx context.Context, fn func(*job.Record, job.Decision) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer conn.Close()
	// A scan reads each page once: a large page cache would only fill with
	// pages never read again and raise the daemon's peak memory at start.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -sqliteScanCacheKiB)); err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer func() {
		_, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", -sqliteCacheKiB))
		if rerr != nil && err == nil {
			err = fmt.Errorf("scan jobs: restore cache size: %w", rerr)
		}
	}()
	rows, err := conn.QueryContext(ctx, "SELECT "+readColumns+" FROM jobs ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer rows.Close()
	dc, x := newDecoder(), &sqliteRow{}
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
func (s *sqliteStore) Jobs(ctx context.Context, q JobQuery) ([]JobRow, error) {
	var maxDuration int64
	if !q.From.IsZero() {
		err := s.db.QueryRowContext(ctx, "SELECT coalesce((SELECT value FROM meta WHERE name = ?), 0)", maxDurationName).Scan(&maxDuration)
		if err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
	}
	query, args, err := jobsQuery(q, sqliteDialect, maxDuration)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	defer rows.Close()
	dc, x := newDecoder(), &sqliteRow{}
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

// reclassifyChunk is how many records Reclassify reads before writing the
// changed ones: the table is never read and written in one statement.
const reclassifyChunk = 10_000

// reclassified is a stored run whose decision changed.
type reclassified struct {
	id    int64
	class string
	doc   []byte
}

// Reclassify implements Store.
func (s *sqliteStore) Reclassify(ctx context.Context, classifyFn func(*job.Record) job.Decision) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reclassify: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	update, err := tx.PrepareContext(ctx, "UPDATE jobs SET class = ?, doc = ? WHERE id = ?")
	if err != nil {
		return 0, fmt.Errorf("reclassify: prepare: %w", err)
	}
	defer update.Close()
	dc, x := newDecoder(), &sqliteRow{}
	var rec job.Record
	var d job.Decision
	changed := 0
	var last int64
	for {
		rows, err := tx.QueryContext(ctx, "SELECT id, "+readColumns+" FROM jobs WHERE id > ? ORDER BY id LIMIT ?", last, s.chunk)
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		var todo []reclassified
		n := 0
		for rows.Next() {
			n++
			if err := x.scan(rows, dc, &rec, &d, &last); err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: read: %w", err)
			}
			class, doc, ok, err := redecide(&rec, d, classifyFn)
			if err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: %w", err)
			}
			if ok {
				todo = append(todo, reclassified{last, class, doc})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		for _, u := range todo {
			if _, err := update.ExecContext(ctx, u.class, u.doc, u.id); err != nil {
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
func (s *sqliteStore) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Backend: "sqlite", Location: s.path}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM jobs").Scan(&st.Records); err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&st.SchemaVersion); err != nil {
		return st, fmt.Errorf("job store stats: %w", err)
	}
	for _, name := range []string{s.path, s.path + "-wal"} {
		fi, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("job store stats: %w", err)
		}
		st.Bytes += fi.Size()
	}
	return st, nil
}

// Close implements Store.
func (s *sqliteStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close job store %s: %w", s.path, err)
	}
	return nil
}
