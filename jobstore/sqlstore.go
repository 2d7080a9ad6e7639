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
// migration is serialised, how big the store is on disk, and how block ids
// and read snapshots are had.
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
	// diskBytes returns the space the store takes on disk.
	diskBytes func(ctx context.Context, s *sqlStore) (int64, error)
	// explain adds context to an error of the migration's first statement
	// (such as a schema named in search_path that does not exist).
	explain func(err error) error
	// nextBlockID returns the id of a new block, in a write transaction.
	nextBlockID string
	// snapshot are the options of a read transaction that sees one
	// snapshot through several statements.
	snapshot *sql.TxOptions
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
	// mu serialises this handle's writers and guards idx: Apply,
	// Reclassify and the migration hold it; Jobs reads idx under RLock.
	mu sync.RWMutex
	// idx maps every run to the block of its latest version, as of block
	// indexedTo and this handle's own writes; nil until first needed.
	idx       *runIndex
	indexedTo int64
	// chunk is how many blocks Reclassify reads at a time.
	chunk int
	// compactPerApply bounds the blocks one Apply compacts.
	compactPerApply int
	hooks           testHooks
	// onClose releases what the dialect opened besides db.
	onClose func() error
	bw      blockWriter
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
	s := &sqlStore{db: db, d: d, location: location, chunk: reclassifyChunk, compactPerApply: 4}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open job store %s: %w", location, err)
	}
	return s, nil
}

// migrate brings the schema to schemaVersion in one transaction.
func (s *sqlStore) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
		m := migrations[v-1]
		if _, err := tx.ExecContext(ctx, s.d.migration(m)); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if m.convert != nil {
			if err := m.convert(ctx, tx, s.d); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", v, err)
			}
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

// The statements of blocks and cursors.
const (
	insertBlock = `INSERT INTO blocks (id, records, live, min_start, max_start, max_end, running, unstarted, keys, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	rewriteBlock = `UPDATE blocks SET records = ?, live = ?, min_start = ?, max_start = ?, max_end = ?, running = ?,
	unstarted = ?, keys = ?, data = ? WHERE id = ?`
	setCursor = `INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?)
ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
)

// writeBlock inserts b as a new block and returns its id.
func (s *sqlStore) writeBlock(ctx context.Context, tx *sql.Tx, b *encodedBlock) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, s.d.nextBlockID).Scan(&id); err != nil {
		return 0, fmt.Errorf("new block id: %w", err)
	}
	m := &b.meta
	_, err := tx.ExecContext(ctx, s.d.rebind(insertBlock), id, m.records, m.records, m.minStart, m.maxStart, m.maxEnd,
		m.running, m.unstarted, b.keys, b.data)
	if err != nil {
		return 0, fmt.Errorf("write block: %w", err)
	}
	return id, nil
}

// indexLocked brings s.idx up to date with the blocks committed since it
// was built, reading through q (a transaction of the caller's, or the
// database). s.mu must be held.
func (s *sqlStore) indexLocked(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) error {
	if s.idx == nil {
		var n int64
		rows, err := q.QueryContext(ctx, "SELECT coalesce(sum(live), 0) FROM blocks")
		if err != nil {
			return fmt.Errorf("index runs: %w", err)
		}
		if rows.Next() {
			err = rows.Scan(&n)
		}
		rows.Close()
		if err != nil {
			return fmt.Errorf("index runs: %w", err)
		}
		s.idx, s.indexedTo = newRunIndex(int(n)), 0
	}
	rows, err := q.QueryContext(ctx, s.d.rebind("SELECT id, keys FROM blocks WHERE id > ? ORDER BY id"), s.indexedTo)
	if err != nil {
		return fmt.Errorf("index runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var keys []byte
		if err := rows.Scan(&id, &keys); err != nil {
			return fmt.Errorf("index runs: %w", err)
		}
		b, err := blockID(id)
		if err != nil {
			return fmt.Errorf("index runs: %w", err)
		}
		for i := range len(keys) / keyEntrySize {
			k, _ := keyAt(keys, i)
			s.idx.set(k, b)
		}
		s.indexedTo = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index runs: %w", err)
	}
	return nil
}

// storedDocs returns, for each block named in want, the document
// fingerprints of the runs of want it holds.
func storedDocs(ctx context.Context, tx *sql.Tx, d *dialect, want map[uint32]map[uint64]uint64) error {
	for b, runs := range want {
		var keys []byte
		err := tx.QueryRowContext(ctx, d.rebind("SELECT keys FROM blocks WHERE id = ?"), int64(b)).Scan(&keys)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read block %d: %w", b, err)
		}
		for i := range len(keys) / keyEntrySize {
			k, doc := keyAt(keys, i)
			if _, ok := runs[k]; ok {
				runs[k] = doc
			}
		}
	}
	return nil
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// later holds the index changes of this batch, made once it commits.
	later := map[uint64]uint32{}
	var lastID int64
	if len(p.rows) > 0 {
		if err := s.indexLocked(ctx, tx); err != nil {
			return res, err
		}
		// The runs stored already, by block: re-reads are dropped when
		// their documents are the same.
		stored := map[uint32]map[uint64]uint64{}
		for i := range p.rows {
			if b, ok := s.idx.get(p.rows[i].hash); ok {
				if stored[b] == nil {
					stored[b] = map[uint64]uint64{}
				}
				stored[b][p.rows[i].hash] = 0
			}
		}
		if err := storedDocs(ctx, tx, s.d, stored); err != nil {
			return res, err
		}
		dead := map[uint32]int{}
		keep := p.rows[:0:0]
		for i := range p.rows {
			w := &p.rows[i]
			b, ok := s.idx.get(w.hash)
			switch {
			case !ok:
				res.Inserted++
			case stored[b][w.hash] == w.docHash:
				res.Unchanged++
				continue
			default:
				res.Updated++
				dead[b]++
			}
			keep = append(keep, *w)
		}
		for first := 0; first < len(keep); first += blockMaxRecords {
			chunk := keep[first:min(first+blockMaxRecords, len(keep))]
			enc := s.bw.encode(chunk)
			id, err := s.writeBlock(ctx, tx, &enc)
			if err != nil {
				return res, err
			}
			bid, err := blockID(id)
			if err != nil {
				return res, err
			}
			for _, h := range enc.hashes {
				later[h] = bid
			}
			lastID = id
		}
		for b, n := range dead {
			if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE blocks SET live = live - ? WHERE id = ?"), n, int64(b)); err != nil {
				return res, fmt.Errorf("count replaced records: %w", err)
			}
		}
		if len(dead) > 0 {
			if err := s.compact(ctx, tx, later, s.compactPerApply); err != nil {
				return res, err
			}
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
	for h, b := range later {
		s.idx.set(h, b)
	}
	if s.idx != nil && lastID > s.indexedTo && s.d.name == "sqlite" {
		// Writers take turns on SQLite: no block between indexedTo and
		// lastID is missing from the index.
		s.indexedTo = lastID
	}
	return res, nil
}

// live reports whether record key of block b is its run's latest version,
// given the index changes not yet made (later).
func (s *sqlStore) live(key uint64, b uint32, later map[uint64]uint32) bool {
	if nb, ok := later[key]; ok {
		return nb == b
	}
	cur, ok := s.idx.get(key)
	return ok && cur == b
}

// compact rewrites up to limit blocks of which less than half the records
// are live, keeping the live ones (with their block's id, so that the
// index stays right), and deletes the blocks with none.
func (s *sqlStore) compact(ctx context.Context, tx *sql.Tx, later map[uint64]uint32, limit int) error {
	rows, err := tx.QueryContext(ctx, s.d.rebind("SELECT id FROM blocks WHERE live * 2 < records ORDER BY id LIMIT ?"), limit)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("compact: %w", err)
		}
		ids = append(ids, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	dc := newDecoder()
	var buf []byte
	var entries []blockEntry
	var rec job.Record
	var dec job.Decision
	for _, id := range ids {
		var n int
		var keys, data []byte
		if err := tx.QueryRowContext(ctx, s.d.rebind("SELECT records, keys, data FROM blocks WHERE id = ?"), id).Scan(&n, &keys, &data); err != nil {
			return fmt.Errorf("compact block %d: %w", id, err)
		}
		bid, err := blockID(id)
		if err != nil {
			return err
		}
		if buf, entries, err = decodeBlock(buf, entries, data, len(keys)/keyEntrySize); err != nil {
			return fmt.Errorf("compact block %d: %w", id, err)
		}
		var kept []row
		for i, e := range entries {
			k, h := keyAt(keys, i)
			if !s.live(k, bid, later) {
				continue
			}
			if err := dc.decode(e.source, e.line, e.doc, &rec, &dec); err != nil {
				return fmt.Errorf("compact block %d: record read from %s:%d: %w", id, e.source, e.line, err)
			}
			w := row{source: string(e.source), line: e.line, doc: e.doc, hash: k, docHash: h}
			w.start, _ = unixSeconds(rec.Start, "start")
			w.end, _ = unixSeconds(rec.End, "end")
			kept = append(kept, w)
		}
		if len(kept) == 0 {
			if _, err := tx.ExecContext(ctx, s.d.rebind("DELETE FROM blocks WHERE id = ?"), id); err != nil {
				return fmt.Errorf("compact block %d: %w", id, err)
			}
			continue
		}
		var bw blockWriter
		enc := bw.encode(kept)
		m := &enc.meta
		_, err = tx.ExecContext(ctx, s.d.rebind(rewriteBlock), m.records, m.records, m.minStart, m.maxStart, m.maxEnd,
			m.running, m.unstarted, enc.keys, enc.data, id)
		if err != nil {
			return fmt.Errorf("compact block %d: %w", id, err)
		}
	}
	return nil
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

// Stats implements Store.
func (s *sqlStore) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Backend: s.d.name, Location: s.location}
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(sum(live), 0) FROM blocks").Scan(&st.Records); err != nil {
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
