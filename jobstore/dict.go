package jobstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/scmon/scmon/job"
)

// Compressed documents of schema version 2.
//
// A store of schema version 2 learned a dictionary from a sample of its
// first documents (table dictionaries) and compressed every document it
// wrote from then on against it (lz.go): a document of docVersionLZ is that
// version byte, the dictionary's id as a uvarint and the compressed
// document of docVersion without its version byte. Version 3 compresses
// whole blocks instead (block.go); these documents are read once, by the
// migration to version 3.

// docVersionLZ marks a compressed document.
const docVersionLZ = 2

// maxDocBytes bounds a decompressed document, against corrupt input.
const maxDocBytes = 64 << 20

// readDicts returns the dictionaries of a store of schema version 2.
func readDicts(ctx context.Context, tx *sql.Tx) (map[uint64][]byte, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, data FROM dictionaries ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read dictionaries: %w", err)
	}
	defer rows.Close()
	out := map[uint64][]byte{}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("read dictionaries: %w", err)
		}
		out[uint64(id)] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dictionaries: %w", err)
	}
	return out, nil
}

// compressDoc appends to dst the compressed form of doc (of docVersion),
// as schema version 2 stored it.
func compressDoc(dst []byte, e *lzEncoder, id uint64, doc []byte) []byte {
	dst = append(dst, docVersionLZ)
	dst = binary.AppendUvarint(dst, id)
	return e.encode(dst, doc[1:])
}

// inflate returns the document body (the document of docVersion without
// its version byte) that doc (of docVersionLZ) compresses, in dc's scratch
// buffer.
func (dc *decoder) inflate(doc []byte) ([]byte, error) {
	id, n := binary.Uvarint(doc[1:])
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad dictionary id", errCorrupt)
	}
	if dc.dict == nil {
		return nil, fmt.Errorf("%w: compressed document without a dictionary", errCorrupt)
	}
	dict, err := dc.dict(id)
	if err != nil {
		return nil, err
	}
	out, err := lzDecode(dc.scratch, dict, doc[1+n:], maxDocBytes)
	if err != nil {
		return nil, err
	}
	dc.scratch = out
	return out, nil
}

// convertToBlocks is the conversion of the migration to schema version 3:
// it reads the jobs rows in the order of their ids, decodes their
// documents (compressed or not) and writes them as blocks of
// blockMaxRecords records, then drops the tables version 3 no longer has.
func convertToBlocks(ctx context.Context, tx *sql.Tx, d *dialect) error {
	dicts, err := readDicts(ctx, tx)
	if err != nil {
		return err
	}
	dc := newDecoder()
	dc.dict = func(id uint64) ([]byte, error) {
		if data, ok := dicts[id]; ok {
			return data, nil
		}
		return nil, fmt.Errorf("%w: dictionary %d not in the store", errCorrupt, id)
	}
	s := &sqlStore{d: d}
	var pending []row
	var buf []byte
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		// A run is one row of jobs: no record of a block replaces another.
		enc := s.bw.encode(pending)
		if _, err := s.writeBlock(ctx, tx, &enc); err != nil {
			return err
		}
		pending, buf = pending[:0], buf[:0]
		return nil
	}
	var last int64
	for {
		// In pages, since the blocks are written by the same transaction.
		rows, err := tx.QueryContext(ctx, d.rebind("SELECT id, source, line, doc FROM jobs WHERE id > ? ORDER BY id LIMIT ?"), last, blockMaxRecords)
		if err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			var source, doc []byte
			var line int64
			var r job.Record
			var dec job.Decision
			err := rows.Scan(&last, &source, &line, &doc)
			if err == nil {
				if err = dc.decode(source, line, doc, &r, &dec); err != nil {
					err = fmt.Errorf("record read from %s:%d: %w", source, line, err)
				}
			}
			var w row
			if err == nil {
				w, buf, err = encodeRow(&r, dec, buf)
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("convert job %d: %w", last, err)
			}
			pending = append(pending, w)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		if err := flush(); err != nil {
			return err
		}
		if n < blockMaxRecords {
			break
		}
	}
	for _, stmt := range []string{"DROP TABLE jobs", "DROP TABLE dictionaries", "DROP TABLE meta"} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}
