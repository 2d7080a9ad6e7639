package jobstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/scmon/scmon/job"
)

// latestBlocks reads the keys of every block through tx and returns the
// index of the latest version of every run, and the largest block id.
func latestBlocks(ctx context.Context, tx *sql.Tx) (*runIndex, int64, error) {
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(live), 0) FROM blocks").Scan(&n); err != nil {
		return nil, 0, err
	}
	idx := newRunIndex(int(n))
	rows, err := tx.QueryContext(ctx, "SELECT id, keys FROM blocks ORDER BY id")
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var last int64
	var keys []byte
	for rows.Next() {
		if err := rows.Scan(&last, &keys); err != nil {
			return nil, 0, err
		}
		b, err := blockID(last)
		if err != nil {
			return nil, 0, err
		}
		for i := range len(keys) / keyEntrySize {
			k, _ := keyAt(keys, i)
			idx.set(k, b)
		}
	}
	return idx, last, rows.Err()
}

// decodedBlock holds the live records of one block, decoded; its slices
// are reused from block to block.
type decodedBlock struct {
	recs []job.Record
	decs []job.Decision
	n    int
}

// blockReader decodes the blocks of a query, keeping the records that
// live says are their run's latest version.
type blockReader struct {
	dc      *decoder
	buf     []byte
	entries []blockEntry
	// head, when set, skips the records whose head (peekHead) it
	// refuses, before they are decoded.
	head func(h *docHead) bool
}

func newBlockReader() *blockReader { return &blockReader{dc: newDecoder()} }

// read decodes the live records of the block (id, keys, data) into out.
func (br *blockReader) read(id int64, keys, data []byte, live func(key uint64, b uint32) bool, out *decodedBlock) error {
	bid, err := blockID(id)
	if err != nil {
		return err
	}
	n := len(keys) / keyEntrySize
	if br.buf, br.entries, err = decodeBlock(br.buf, br.entries, data, n); err != nil {
		return fmt.Errorf("block %d: %w", id, err)
	}
	out.n = 0
	for i, e := range br.entries {
		k, _ := keyAt(keys, i)
		if !live(k, bid) {
			continue
		}
		if br.head != nil {
			if h, ok := peekHead(e.doc); ok && !br.head(&h) {
				continue
			}
		}
		if out.n == len(out.recs) {
			out.recs = append(out.recs, job.Record{})
			out.decs = append(out.decs, job.Decision{})
		}
		if err := br.dc.decode(e.source, e.line, e.doc, &out.recs[out.n], &out.decs[out.n]); err != nil {
			return fmt.Errorf("record read from %s:%d: %w", e.source, e.line, err)
		}
		out.n++
	}
	return nil
}

// Scan implements Store. It reads one snapshot in a read transaction:
// first the keys of every block, to learn which block holds each run's
// latest version, then the blocks, which one goroutine decodes while the
// caller's goroutine runs fn on the block before. A run comes at the place
// of its latest version.
func (s *sqlStore) Scan(ctx context.Context, fn func(*job.Record, job.Decision) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.snapshot)
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	latest, last, err := latestBlocks(ctx, tx)
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, keys, data FROM blocks ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan jobs: %w", err)
	}
	live := func(k uint64, b uint32) bool {
		cur, ok := latest.get(k)
		return ok && cur == b
	}
	// Two blocks in flight: one decoded, one consumed.
	free := make(chan *decodedBlock, 2)
	free <- &decodedBlock{}
	free <- &decodedBlock{}
	full := make(chan *decodedBlock)
	stop := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(full)
		defer rows.Close()
		br := newBlockReader()
		var keys, data []byte
		for rows.Next() {
			var id int64
			if readErr = rows.Scan(&id, &keys, &data); readErr != nil {
				return
			}
			var out *decodedBlock
			select {
			case out = <-free:
			case <-stop:
				return
			}
			if readErr = br.read(id, keys, data, live, out); readErr != nil {
				return
			}
			select {
			case full <- out:
			case <-stop:
				return
			}
		}
		readErr = rows.Err()
	})
	var fnErr error
	for blk := range full {
		for i := 0; i < blk.n && fnErr == nil; i++ {
			fnErr = fn(&blk.recs[i], blk.decs[i])
		}
		if fnErr != nil {
			close(stop)
			for range full {
			}
			break
		}
		free <- blk
	}
	wg.Wait()
	if fnErr != nil {
		return fnErr
	}
	if readErr != nil {
		return fmt.Errorf("scan jobs: %w", readErr)
	}
	// The daemon applies after it scans: the index of the scan saves
	// Apply reading every block's keys again.
	s.mu.Lock()
	if s.idx == nil {
		s.idx, s.indexedTo = latest, last
	}
	s.mu.Unlock()
	return nil
}

// jobHit is a record Jobs selected, with where it is stored (the order of
// records that started at the same second).
type jobHit struct {
	row   JobRow
	start int64
	block int64
	at    int
}

// Jobs implements Store.
func (s *sqlStore) Jobs(ctx context.Context, q JobQuery) ([]JobRow, error) {
	plan, err := jobsQuery(q, s.d)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	s.mu.Lock()
	err = s.indexLocked(ctx, s.db)
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	// Writers of this handle wait: the index stays that of the blocks read.
	s.mu.RLock()
	defer s.mu.RUnlock()
	rows, err := s.db.QueryContext(ctx, plan.sql, plan.args...)
	if err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	defer rows.Close()
	live := func(k uint64, b uint32) bool {
		cur, ok := s.idx.get(k)
		return ok && cur == b
	}
	want := plan.offset + plan.limit
	var hits []jobHit
	less := func(a, b jobHit) int {
		switch {
		case a.start != b.start:
			return cmpInt(a.start, b.start)
		case a.block != b.block:
			return cmpInt(a.block, b.block)
		}
		return a.at - b.at
	}
	br := newBlockReader()
	br.head = plan.filter.matchHead
	var blk decodedBlock
	var keys, data []byte
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &keys, &data); err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
		if err := br.read(id, keys, data, live, &blk); err != nil {
			return nil, fmt.Errorf("query jobs: %w", err)
		}
		for i := range blk.n {
			r, d := &blk.recs[i], blk.decs[i]
			if !plan.filter.match(r, d) {
				continue
			}
			h := jobHit{start: unixOf(r.Start), block: id, at: i}
			if len(hits) >= want && less(h, hits[want-1]) >= 0 {
				continue // sorted after the ones kept
			}
			h.row.Record = *r
			h.row.Record.Accels, h.row.Record.Steps = slices.Clone(r.Accels), slices.Clone(r.Steps)
			h.row.Decision = job.Decision{Class: d.Class, Rules: slices.Clone(d.Rules)}
			hits = append(hits, h)
			if len(hits) >= 2*want {
				slices.SortFunc(hits, less)
				hits = hits[:want]
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query jobs: %w", err)
	}
	slices.SortFunc(hits, less)
	hits = hits[:min(len(hits), want)]
	var out []JobRow
	for i := plan.offset; i < len(hits); i++ {
		out = append(out, hits[i].row)
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// unixOf returns t in Unix seconds, 0 for the zero time.
func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// reclassifyChunk is how many blocks Reclassify reads at once.
const reclassifyChunk = 16

// Reclassify implements Store. It rewrites, in one transaction, the blocks
// that hold a record whose decision changes, in place.
func (s *sqlStore) Reclassify(ctx context.Context, classifyFn func(*job.Record) job.Decision) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reclassify: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := s.indexLocked(ctx, tx); err != nil {
		return 0, fmt.Errorf("reclassify: %w", err)
	}
	changed := 0
	dc := newDecoder()
	var buf []byte
	var entries []blockEntry
	var rec job.Record
	var dec job.Decision
	var last int64
	for {
		rows, err := tx.QueryContext(ctx, s.d.rebind("SELECT id, keys, data FROM blocks WHERE id > ? ORDER BY id LIMIT ?"), last, s.chunk)
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		type rewrite struct {
			id         int64
			keys, data []byte
		}
		var todo []rewrite
		n := 0
		for rows.Next() {
			n++
			var keys, data []byte
			if err := rows.Scan(&last, &keys, &data); err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: read: %w", err)
			}
			bid, err := blockID(last)
			if err == nil {
				buf, entries, err = decodeBlock(buf, entries, data, len(keys)/keyEntrySize)
			}
			if err != nil {
				rows.Close()
				return 0, fmt.Errorf("reclassify: block %d: %w", last, err)
			}
			var out []row
			for i, e := range entries {
				k, h := keyAt(keys, i)
				w := row{source: string(e.source), line: e.line, doc: e.doc, hash: k, docHash: h}
				if cur, ok := s.idx.get(k); ok && cur == bid {
					err := dc.decode(e.source, e.line, e.doc, &rec, &dec)
					if err != nil {
						err = fmt.Errorf("record read from %s:%d: %w", e.source, e.line, err)
					}
					var doc []byte
					var ok bool
					if err == nil {
						doc, ok, err = redecide(&rec, dec, classifyFn)
					}
					if err != nil {
						rows.Close()
						return 0, fmt.Errorf("reclassify: %w", err)
					}
					if ok {
						w.doc, w.docHash = doc, docHash(doc)
						changed++
						if out == nil {
							out = make([]row, 0, len(entries))
						}
					}
				}
				out = append(out, w)
			}
			if len(out) > 0 && changed > 0 && rowsChanged(out, keys) {
				enc := s.bw.encode(out)
				todo = append(todo, rewrite{last, enc.keys, enc.data})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("reclassify: read: %w", err)
		}
		for _, u := range todo {
			if _, err := tx.ExecContext(ctx, s.d.rebind("UPDATE blocks SET keys = ?, data = ? WHERE id = ?"), u.keys, u.data, u.id); err != nil {
				return 0, fmt.Errorf("reclassify: update: %w", err)
			}
		}
		if n < s.chunk {
			break
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("reclassify: commit: %w", err)
	}
	return changed, nil
}

// rowsChanged reports whether the document fingerprints of out differ from
// those of keys.
func rowsChanged(out []row, keys []byte) bool {
	for i := range out {
		if _, h := keyAt(keys, i); h != out[i].docHash {
			return true
		}
	}
	return false
}
