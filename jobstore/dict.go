package jobstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"
)

// Compressed documents.
//
// Once a store holds dictMinDocs runs, it learns a dictionary from a sample
// of their documents (table dictionaries, schema version 2) and compresses
// every document it writes from then on against it (lz.go): a document of
// docVersionLZ is that version byte, the dictionary's id as a uvarint and
// the compressed document of docVersion without its version byte. The
// dictionary never changes, so that one record always compresses to the
// same bytes and Apply can still compare documents to find unchanged runs;
// documents written before it existed stay as they are (a run re-read after
// that counts once as updated).

// docVersionLZ marks a compressed document.
const docVersionLZ = 2

// Bounds of the dictionary: learned from up to dictSampleDocs documents
// once dictMinDocs exist, at most dictMaxBytes long.
const (
	dictMinDocs    = 64
	dictSampleDocs = 256
	dictMaxBytes   = 64 << 10
)

// maxDocBytes bounds a decompressed document, against corrupt input.
const maxDocBytes = 64 << 20

// dicts holds a store's dictionaries, loaded at open and again when a
// document names one that another instance wrote since.
type dicts struct {
	mu   sync.Mutex
	byID map[uint64]*lzDict
	// current is the one new documents use (the one of lowest id), 0 when
	// the store has none yet.
	current uint64
}

// load reads every dictionary of the store.
func (s *sqlStore) loadDicts(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT id, data FROM dictionaries ORDER BY id")
	if err != nil {
		return fmt.Errorf("read dictionaries: %w", err)
	}
	defer rows.Close()
	s.dicts.mu.Lock()
	defer s.dicts.mu.Unlock()
	if s.dicts.byID == nil {
		s.dicts.byID = map[uint64]*lzDict{}
	}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return fmt.Errorf("read dictionaries: %w", err)
		}
		if _, ok := s.dicts.byID[uint64(id)]; !ok {
			s.dicts.byID[uint64(id)] = newLZDict(data)
		}
		if s.dicts.current == 0 {
			s.dicts.current = uint64(id)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read dictionaries: %w", err)
	}
	return nil
}

// dict returns dictionary id, reading the store's dictionaries again when
// it is not loaded.
func (s *sqlStore) dict(id uint64) ([]byte, error) {
	s.dicts.mu.Lock()
	d := s.dicts.byID[id]
	s.dicts.mu.Unlock()
	if d == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.loadDicts(ctx); err != nil {
			return nil, err
		}
		s.dicts.mu.Lock()
		d = s.dicts.byID[id]
		s.dicts.mu.Unlock()
	}
	if d == nil {
		return nil, fmt.Errorf("%w: dictionary %d not in the store", errCorrupt, id)
	}
	return d.data, nil
}

// encoder returns an encoder for the current dictionary, nil when there is
// none.
func (s *sqlStore) encoder() (*lzEncoder, uint64) {
	s.dicts.mu.Lock()
	defer s.dicts.mu.Unlock()
	if s.dicts.current == 0 {
		return nil, 0
	}
	return &lzEncoder{d: s.dicts.byID[s.dicts.current]}, s.dicts.current
}

// ensureDict learns the store's dictionary when it has none and enough
// documents exist: those of the batch, or else the last ones stored. Two
// instances learning at once store one dictionary: the second insert does
// nothing and both read the first.
func (s *sqlStore) ensureDict(ctx context.Context, p *preparedBatch) error {
	if e, _ := s.encoder(); e != nil {
		return nil
	}
	var docs [][]byte
	if len(p.rows) >= dictMinDocs {
		step := max(1, len(p.rows)/dictSampleDocs)
		for i := 0; i < len(p.rows) && len(docs) < dictSampleDocs; i += step {
			docs = append(docs, p.rows[i].doc)
		}
	} else {
		rows, err := s.db.QueryContext(ctx, s.d.rebind("SELECT doc FROM jobs ORDER BY id DESC LIMIT ?"), dictSampleDocs)
		if err != nil {
			return fmt.Errorf("sample documents: %w", err)
		}
		for rows.Next() {
			var doc []byte
			if err := rows.Scan(&doc); err != nil {
				rows.Close()
				return fmt.Errorf("sample documents: %w", err)
			}
			if len(doc) > 0 && doc[0] == docVersion {
				docs = append(docs, doc)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sample documents: %w", err)
		}
		if len(docs) < dictMinDocs {
			return nil
		}
	}
	var data []byte
	for _, doc := range docs {
		if len(data)+len(doc) > dictMaxBytes {
			break
		}
		data = append(data, doc[1:]...)
	}
	if _, err := s.db.ExecContext(ctx, s.d.rebind("INSERT INTO dictionaries (id, data) VALUES (1, ?) ON CONFLICT (id) DO NOTHING"), data); err != nil {
		return fmt.Errorf("store dictionary: %w", err)
	}
	return s.loadDicts(ctx)
}

// compressDoc appends to dst the compressed form of doc (of docVersion).
func compressDoc(dst []byte, e *lzEncoder, id uint64, doc []byte) []byte {
	dst = append(dst, docVersionLZ)
	dst = binary.AppendUvarint(dst, id)
	return e.encode(dst, doc[1:])
}

// compressRows replaces the documents of p by their compressed forms, when
// the store has a dictionary.
func (s *sqlStore) compressRows(p *preparedBatch) {
	e, id := s.encoder()
	if e == nil {
		return
	}
	var buf []byte
	for i := range p.rows {
		w := &p.rows[i]
		at := len(buf)
		buf = compressDoc(buf, e, id, w.doc)
		w.doc = buf[at:len(buf):len(buf)]
	}
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
