package jobstore

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/scmon/scmon/job"
)

// redecide applies classifyFn to a stored record and returns the new
// document when the decision differs from the stored one d.
func redecide(r *job.Record, d job.Decision, classifyFn func(*job.Record) job.Decision) ([]byte, bool, error) {
	nd := classifyFn(r)
	if nd.Class == d.Class && slices.Equal(nd.Rules, d.Rules) {
		return nil, false, nil
	}
	if _, ok := classCode[nd.Class]; !ok {
		return nil, false, fmt.Errorf("record %s: decision has unknown class %s", r.Key(), nd.Class)
	}
	// The times came from the store: they convert without error.
	submit, _ := unixSeconds(r.Submit, "submit")
	start, _ := unixSeconds(r.Start, "start")
	end, _ := unixSeconds(r.End, "end")
	return appendDoc(nil, r, nd, submit, start, end), true, nil
}

// preparedBatch is a batch checked and encoded before any transaction
// starts, so that a record the store cannot keep fails the batch without
// touching the database.
type preparedBatch struct {
	// rows holds one row per run, in the order each run first appears in
	// the batch, with the content of its last record.
	rows   []row
	merged int
	cursor []byte
}

// docChunk is the size of the buffers prepareBatch encodes documents
// into.
const docChunk = 1 << 20

// prepareBatch validates and encodes b.
func prepareBatch(b Batch) (*preparedBatch, error) {
	if len(b.Decisions) != len(b.Records) {
		return nil, fmt.Errorf("batch has %d records but %d decisions", len(b.Records), len(b.Decisions))
	}
	if b.Source == "" && b.Cursor != nil {
		return nil, errors.New("batch has a cursor but no source name")
	}
	p := &preparedBatch{rows: make([]row, 0, len(b.Records)), cursor: b.Cursor}
	if p.cursor == nil {
		p.cursor = []byte{}
	}
	encoded, err := encodeRows(b.Records, b.Decisions)
	if err != nil {
		return nil, err
	}
	// One row per run, at the place of its first record, with its last.
	index := make(map[uint64]int, len(encoded))
	for _, w := range encoded {
		if at, ok := index[w.hash]; ok {
			p.rows[at] = w
			p.merged++
			continue
		}
		index[w.hash] = len(p.rows)
		p.rows = append(p.rows, w)
	}
	return p, nil
}

// nullable maps the 0 of an unset time to SQL NULL.
func nullable(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// parallelRows is the batch size from which encodeRows splits the work
// among the processors.
const parallelRows = 4096

// encodeRows encodes recs with their decisions, on every processor for a
// large batch. The error is that of the first record that fails.
func encodeRows(recs []*job.Record, decs []job.Decision) ([]row, error) {
	rows := make([]row, len(recs))
	parts := 1
	if len(recs) >= parallelRows {
		parts = min(runtime.GOMAXPROCS(0), 4)
	}
	errs := make([]error, parts)
	encode := func(part int) {
		lo, hi := part*len(recs)/parts, (part+1)*len(recs)/parts
		var buf []byte
		for i := lo; i < hi; i++ {
			r := recs[i]
			if r == nil {
				errs[part] = fmt.Errorf("record %d is nil", i)
				return
			}
			if cap(buf)-len(buf) < docChunk/4 {
				// A new chunk rather than a larger copy: the documents
				// encoded so far keep pointing into the old one.
				buf = make([]byte, 0, docChunk)
			}
			var err error
			if rows[i], buf, err = encodeRow(r, decs[i], buf); err != nil {
				errs[part] = fmt.Errorf("record %d (%s): %w", i, r.Key(), err)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for part := 1; part < parts; part++ {
		wg.Go(func() { encode(part) })
	}
	encode(0)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}
