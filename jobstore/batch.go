package jobstore

import (
	"errors"
	"fmt"
	"slices"

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
	index := make(map[uint64]int, len(b.Records))
	var buf []byte
	for i, r := range b.Records {
		if r == nil {
			return nil, fmt.Errorf("record %d is nil", i)
		}
		w, nb, err := encodeRow(r, b.Decisions[i], buf)
		if err != nil {
			return nil, fmt.Errorf("record %d (%s): %w", i, r.Key(), err)
		}
		buf = nb
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
